import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { localChatTemplates, parseAgentSpec } from '../../src/definition/agent-spec.ts';
import { unloadAll } from '../../src/models/local/llama-runtime.ts';
import type { LocalModel } from '../../src/models/local/local-model.ts';
import type { ModelRequest, ModelStreamPart, ToolDefinition } from '../../src/models/model.ts';
import { resolveModel } from '../../src/models/providers.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const fixture = join(repoRoot, 'test/fixtures/models/tiny-random-llama.gguf');
const hangGuard = 60_000;

afterAll(() => unloadAll());

function config(home = tempDir()): Config {
  return loadConfig({ AGENTD_HOME: home });
}

async function localModel(
  model: string,
  provider = '  context_size: 4096\n',
  rest = '',
): Promise<LocalModel> {
  const dir = tempDir();
  const spec = parseAgentSpec(
    join(dir, 'agent.yaml'),
    `name: t\nmodel: ${model}\nprovider:\n${provider}${rest}`,
  );
  const resolved = await resolveModel(spec, config());
  return resolved.model as LocalModel;
}

async function collect(
  model: LocalModel,
  request: Partial<ModelRequest>,
  signal?: AbortSignal,
): Promise<ModelStreamPart[]> {
  const parts: ModelStreamPart[] = [];
  for await (const part of model.stream(
    { instructions: '', messages: [], tools: [], settings: {}, ...request },
    signal,
  ))
    parts.push(part);
  return parts;
}

const lookup: ToolDefinition = {
  name: 'lookup',
  description: 'Look a word up in the dictionary.',
  inputSchema: {
    type: 'object',
    properties: {
      word: { type: 'string', maxLength: 12 },
      exact: { type: 'boolean' },
      lang: { enum: ['en', 'fr'] },
    },
    required: ['word', 'exact', 'lang'],
    additionalProperties: false,
  },
};
const tally: ToolDefinition = {
  name: 'tally',
  description: 'Count things.',
  inputSchema: {
    type: 'object',
    properties: { items: { type: 'array', items: { type: 'integer' }, maxItems: 3 } },
    required: ['items'],
    additionalProperties: false,
  },
};

describe('local/<file>.gguf', () => {
  it('loads the GGUF once per process and takes its catalog entry from the metadata', async () => {
    const a = await localModel(`local/${fixture}`);
    const b = await localModel(`local/${fixture}`);
    expect(a.loaded).toBe(b.loaded);
    expect(a.entry).toMatchObject({
      provider: 'local',
      displayName: 'tiny-random',
      contextWindow: 4096,
      pricing: { input: 0, output: 0 },
    });
    expect(a.loaded.sequences).toBe(2);
  });

  it('finds a model by name in $AGENTD_HOME/models', async () => {
    const home = tempDir();
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(join(home, 'models'));
    copyFileSync(fixture, join(home, 'models', 'tiny.gguf'));
    const spec = parseAgentSpec(join(home, 'agent.yaml'), 'name: t\nmodel: local/tiny\n');
    const resolved = await resolveModel(spec, config(home));
    expect(resolved.model.entry?.displayName).toBe('tiny-random');
    expect(resolved.notices[0]).toContain(join(home, 'models', 'tiny.gguf'));
  });

  it('streams text and counts tokens exactly, reusing the prompt a sequence already holds', async () => {
    const model = await localModel(`local/${fixture}`);
    const request = {
      messages: [{ role: 'user' as const, text: 'Say something.' }],
      settings: { maxOutputTokens: 20, temperature: 0 },
    };
    const first = await collect(model, request);
    const finish = first.at(-1);
    expect(finish).toMatchObject({ type: 'finish', stopReason: 'max_tokens' });
    if (finish?.type !== 'finish') throw new Error('no finish');
    expect(finish.usage.outputTokens).toBe(20);
    expect(first.some((p) => p.type === 'text-delta')).toBe(true);
    // The same prompt again: all of it but the last token is still in a sequence's cache,
    // unless the other sequence served it (then none is).
    const second = (await collect(model, request)).at(-1);
    if (second?.type !== 'finish') throw new Error('no finish');
    expect(second.usage.inputTokens).toBe(finish.usage.inputTokens);
    expect([0, finish.usage.inputTokens - 1]).toContain(second.usage.cachedInputTokens);
  });

  it('makes tool calls by the grammar: every call is valid JSON of its tool schema', async () => {
    const model = await localModel(`local/${fixture}`);
    const ajv = new Ajv({ strict: false });
    const validators = new Map([lookup, tally].map((t) => [t.name, ajv.compile(t.inputSchema)]));
    let calls = 0;
    // Random weights: the sampler's seed decides between answering and calling; some seed of
    // these calls a tool, and whatever is called must match its schema.
    for (let seed = 1; seed <= 12 && calls === 0; seed++) {
      const parts = await collect(model, {
        instructions: 'Look words up.',
        messages: [{ role: 'user', text: 'Look up "ledger".' }],
        tools: [lookup, tally],
        settings: { temperature: 2, seed, maxOutputTokens: 80 },
      });
      for (const part of parts) {
        if (part.type !== 'tool-call') continue;
        calls++;
        const validate = validators.get(part.call.name);
        expect(validate, part.call.name).toBeDefined();
        expect(validate?.(part.call.input), JSON.stringify(part.call.input)).toBe(true);
        expect(parts.at(-1)).toMatchObject({ type: 'finish', stopReason: 'tool_calls' });
      }
    }
    expect(calls).toBeGreaterThan(0);
  });

  it('stops generating at once when the signal aborts, and frees the sequence', async () => {
    const model = await localModel(`local/${fixture}`, '  context_size: 4096\n  sequences: 1\n');
    const controller = new AbortController();
    let afterAbort = 0;
    const reason = new Error('cancelled by the test');
    const run = (async () => {
      for await (const part of model.stream(
        {
          instructions: '',
          messages: [{ role: 'user', text: 'Go on and on.' }],
          tools: [],
          settings: { maxOutputTokens: 2000 },
        },
        controller.signal,
      )) {
        if (controller.signal.aborted) afterAbort++;
        if (part.type === 'text-delta' && !controller.signal.aborted) controller.abort(reason);
      }
    })();
    await expect(run).rejects.toBe(reason);
    expect(afterAbort).toBe(0);
    // The one sequence is free again: another generation gets it without waiting.
    const next = await collect(model, { settings: { maxOutputTokens: 3 } });
    expect(next.at(-1)).toMatchObject({ type: 'finish' });
    expect(model.loaded.waiting).toBe(0);
  });

  it('runs concurrent generations on one loaded model; past its sequences they queue', async () => {
    const model = await localModel(`local/${fixture}`, '  context_size: 4096\n  sequences: 2\n');
    const started: number[] = [];
    let sawWaiting = 0;
    const one = async (i: number) => {
      const parts: ModelStreamPart[] = [];
      for await (const part of model.stream({
        instructions: '',
        messages: [{ role: 'user', text: `Run ${i}` }],
        tools: [],
        settings: { maxOutputTokens: 30, temperature: 0 },
      })) {
        if (parts.length === 0) started.push(i);
        sawWaiting = Math.max(sawWaiting, model.loaded.waiting);
        parts.push(part);
      }
      return parts;
    };
    const results = await Promise.all([one(1), one(2), one(3)]);
    for (const parts of results) {
      const finish = parts.at(-1);
      expect(finish).toMatchObject({ type: 'finish', stopReason: 'max_tokens' });
    }
    expect(started).toHaveLength(3);
    // Two ran at once (the loaded model has two sequences); the third waited for one.
    expect(sawWaiting).toBe(1);
  });

  it('rejects local-only provider options on other providers', () => {
    expect(() =>
      parseAgentSpec('/x/agent.yaml', 'name: t\nmodel: openai/gpt-5\nprovider:\n  sequences: 2\n'),
    ).toThrow(/only apply to local models/);
    expect(() =>
      parseAgentSpec(
        '/x/agent.yaml',
        'name: t\nmodel: openai/gpt-5\nprovider:\n  chat_template: qwen\n',
      ),
    ).toThrow(
      '/x/agent.yaml: provider.chat_template only applies to local models (this agent uses openai)',
    );
  });

  it('takes as provider.chat_template exactly the chat wrapper types node-llama-cpp resolves', async () => {
    const { specializedChatWrapperTypeNames } = await import('node-llama-cpp');
    expect([...localChatTemplates]).toEqual(['auto', ...specializedChatWrapperTypeNames]);
    const error = (() => {
      try {
        parseAgentSpec(
          '/x/agent.yaml',
          `name: t\nmodel: local/${fixture}\nprovider:\n  chat_template: qwen3\n`,
        );
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).toMatch(
      /^\/x\/agent\.yaml: provider\.chat_template: "qwen3" is not allowed \(use one of: auto, general, deepSeek, qwen,/,
    );
    expect(error?.message).not.toContain('\n');
  });
});

describe('effort on local models: a thinking budget where the chat template has one', () => {
  const reasoning = (template: string, effort?: string) =>
    localModel(
      `local/${fixture}`,
      `  context_size: 4096\n  chat_template: ${template}\n`,
      effort ? `effort: ${effort}\n` : '',
    );
  const finishOf = (parts: ModelStreamPart[]) => {
    const finish = parts.at(-1);
    if (finish?.type !== 'finish') throw new Error(`no finish: ${JSON.stringify(finish)}`);
    return finish;
  };
  const shownText = (parts: ModelStreamPart[]) =>
    parts.flatMap((p) => (p.type === 'text-delta' ? [p.text] : [])).join('');

  it('refuses effort with one line where the template has no thinking segment, before any generation', async () => {
    const dir = tempDir();
    const path = join(dir, 'agent.yaml');
    const spec = parseAgentSpec(
      path,
      `name: t\nmodel: local/${fixture}\nprovider:\n  context_size: 4096\neffort: high\n`,
    );
    await expect(resolveModel(spec, config())).rejects.toThrow(
      `${path}: effort: high: local/${fixture} uses node-llama-cpp's Llama2Chat chat template, which has no thinking segment to budget; remove effort, or set provider.chat_template to the reasoning template the model was trained on (qwen, deepSeek, seed, gemma4, harmony)`,
    );
  });

  it('resolves effort on a reasoning template, says the budget, and passes effort on to the run', async () => {
    const dir = tempDir();
    const spec = parseAgentSpec(
      join(dir, 'agent.yaml'),
      `name: t\nmodel: local/${fixture}\nprovider:\n  context_size: 4096\n  chat_template: qwen\neffort: low\n`,
    );
    const resolved = await resolveModel(spec, config());
    expect(resolved.effort).toBe('low');
    expect(resolved.notices).toContain(
      `local/${fixture}: effort low lets the model think for up to 20% of each answer's output tokens`,
    );
    const model = resolved.model as LocalModel;
    expect(model.chatWrapper.wrapperName).toBe('Qwen');
    expect(model.thought).toMatchObject({ prefix: '<think>\n', suffix: '\n</think>' });
    // The model's own template is still what a spec without chat_template gets.
    expect((await localModel(`local/${fixture}`)).chatWrapper.wrapperName).toBe('Llama2Chat');
  });

  for (const template of ['qwen', 'deepSeek']) {
    it(`${template}: thinks within the budget, counts the thought as reasoning tokens, then answers`, async () => {
      const model = await reasoning(template, 'low');
      // low: 20% of the 100 output tokens. Random weights may end the turn early, but some
      // seed of these thinks until the budget closes the thought and then answers.
      let cut = 0;
      for (let seed = 1; seed <= 8 && cut === 0; seed++) {
        const parts = await collect(model, {
          messages: [{ role: 'user', text: 'Think first.' }],
          settings: { maxOutputTokens: 100, temperature: 1, seed, effort: 'low' },
        });
        const { usage, stopReason } = finishOf(parts);
        expect(usage.reasoningTokens).toBeLessThanOrEqual(20);
        if (usage.reasoningTokens < 20) {
          // The turn ended inside the thought: all it wrote was thinking, none of it shown.
          expect(usage.outputTokens).toBe(usage.reasoningTokens);
          expect(shownText(parts)).toBe('');
        } else if (stopReason === 'max_tokens') {
          cut++;
          expect(usage.outputTokens).toBe(100);
          expect(shownText(parts).length).toBeGreaterThan(0);
        }
      }
      expect(cut).toBeGreaterThan(0);
    });
  }

  it('keeps the thought out of the answer: at effort max all of a short answer is thinking, none shown', async () => {
    const model = await reasoning('qwen', 'max');
    let thought = 0;
    for (let seed = 1; seed <= 4; seed++) {
      const parts = await collect(model, {
        messages: [{ role: 'user', text: 'Think it all through.' }],
        settings: { maxOutputTokens: 30, temperature: 1, seed, effort: 'max' },
      });
      const { usage } = finishOf(parts);
      expect(usage.reasoningTokens).toBe(usage.outputTokens);
      expect(parts.filter((p) => p.type === 'text-delta')).toEqual([]);
      thought += usage.reasoningTokens;
    }
    expect(thought).toBeGreaterThan(0);
  });

  it('minimal thinks not at all: no thought is opened and no reasoning tokens are counted', async () => {
    const model = await reasoning('qwen', 'minimal');
    const base = finishOf(
      await collect(model, {
        messages: [{ role: 'user', text: 'Answer at once.' }],
        settings: { maxOutputTokens: 20, temperature: 0 },
      }),
    );
    const minimal = finishOf(
      await collect(model, {
        messages: [{ role: 'user', text: 'Answer at once.' }],
        settings: { maxOutputTokens: 20, temperature: 0, effort: 'minimal' },
      }),
    );
    expect(minimal.usage.reasoningTokens).toBe(0);
    // The prompt is the template's alone: agentd inserted no opening of a thought.
    expect(minimal.usage.inputTokens).toBe(base.usage.inputTokens);
    const low = finishOf(
      await collect(model, {
        messages: [{ role: 'user', text: 'Answer at once.' }],
        settings: { maxOutputTokens: 20, temperature: 0, effort: 'low' },
      }),
    );
    // low: agentd opens the thought (and closes it, should its budget of 4 tokens run out).
    const opened = base.usage.inputTokens + (model.thought?.prefixTokens.length ?? 0);
    expect([opened, opened + (model.thought?.suffixTokens.length ?? 0)]).toContain(
      low.usage.inputTokens,
    );
  });

  it('with tools, thinks first and then answers by the grammar: calls stay valid for their schemas', async () => {
    const model = await reasoning('qwen', 'low');
    // No string lengths here: the grammar may spell a character in bytes that are not UTF-8,
    // which reads back as several U+FFFD, whatever the thinking.
    const define: ToolDefinition = {
      ...lookup,
      name: 'define',
      inputSchema: {
        type: 'object',
        properties: { word: { type: 'string' }, lang: { enum: ['en', 'fr'] } },
        required: ['word', 'lang'],
        additionalProperties: false,
      },
    };
    const ajv = new Ajv({ strict: false });
    const validators = new Map([define, tally].map((t) => [t.name, ajv.compile(t.inputSchema)]));
    let calls = 0;
    // low: 80 of the 400 output tokens. The thought comes first, free of the grammar; after
    // it (closed by its budget) the answer is grammar JSON, and some seed of these calls a tool.
    for (let seed = 1; seed <= 12 && calls === 0; seed++) {
      const parts = await collect(model, {
        instructions: 'Look words up.',
        messages: [{ role: 'user', text: 'Look up "ledger".' }],
        tools: [define, tally],
        settings: { temperature: 2, seed, maxOutputTokens: 400, effort: 'low' },
      });
      const { usage } = finishOf(parts);
      expect(usage.reasoningTokens).toBeLessThanOrEqual(80);
      for (const part of parts) {
        if (part.type !== 'tool-call') continue;
        calls++;
        const validate = validators.get(part.call.name);
        expect(validate?.(part.call.input), JSON.stringify(part.call.input)).toBe(true);
        expect(usage.reasoningTokens).toBe(80);
      }
    }
    expect(calls).toBeGreaterThan(0);
  });

  it(
    'agentd run with effort on a reasoning template completes; the responses count reasoning within the budget',
    async () => {
      const home = tempDir();
      const dir = tempDir();
      const path = join(dir, 'agent.yaml');
      writeFileSync(
        path,
        [
          'name: t',
          `model: local/${fixture}`,
          'provider: { context_size: 4096, sequences: 1, chat_template: qwen }',
          'model_settings: { temperature: 1, seed: 1, max_output_tokens: 100 }',
          'effort: low',
          'limits: { max_turns: 1 }',
        ].join('\n'),
      );
      const result = await agentd(['run', path, '--json', 'Think, then answer.'], { home });
      expect(result.code, result.stderr).toBe(0);
      const events = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; data: Record<string, unknown> });
      const requests = events.filter((e) => e.type === 'model.request');
      expect(requests.length).toBeGreaterThan(0);
      for (const request of requests) expect(request.data.effort).toBe('low');
      const responses = events.filter((e) => e.type === 'model.response');
      expect(responses.length).toBeGreaterThan(0);
      for (const response of responses) {
        const usage = response.data.usage as { outputTokens: number; reasoningTokens: number };
        // low: 20% of the 100 output tokens.
        expect(usage.reasoningTokens).toBeLessThanOrEqual(20);
        expect(usage.outputTokens).toBeGreaterThanOrEqual(usage.reasoningTokens);
      }
      expect(events.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'completed' } });
    },
    hangGuard,
  );

  it(
    'agentd run with effort on a template without thinking prints the one line, before generating',
    async () => {
      const home = tempDir();
      const dir = tempDir();
      const path = join(dir, 'agent.yaml');
      writeFileSync(path, `name: t\nmodel: local/${fixture}\neffort: medium\n`);
      const result = await agentd(['run', path, 'hi'], { home });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(
        `${path}: effort: medium: local/${fixture} uses node-llama-cpp's Llama2Chat chat template, which has no thinking segment to budget;`,
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
    },
    hangGuard,
  );
});

describe('local model load errors are one line', () => {
  const cases: [string, (dir: string) => string, RegExp][] = [
    ['a missing file', (dir) => join(dir, 'nope.gguf'), /no such file .*nope\.gguf/],
    [
      'a file that is not GGUF',
      (dir) => {
        const path = join(dir, 'fake.gguf');
        writeFileSync(path, 'this is not a model');
        return path;
      },
      /is not a GGUF file/,
    ],
    [
      'a GGUF cut short',
      (dir) => {
        const path = join(dir, 'cut.gguf');
        writeFileSync(path, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(6)]));
        return path;
      },
      /node-llama-cpp could not load it/,
    ],
    [
      'a file bigger than memory',
      (dir) => {
        const path = join(dir, 'huge.gguf');
        const fd = openSync(path, 'w');
        writeSync(fd, 'GGUF');
        writeSync(fd, Buffer.from([0]), 0, 1, totalmem() + 1024); // sparse: no disk used
        closeSync(fd);
        return path;
      },
      /too big for this machine's memory/,
    ],
    ['a folder', (dir) => dir, /is a folder/],
  ];
  for (const [what, make, message] of cases) {
    it(`${what}: resolve fails with one line`, async () => {
      const dir = tempDir();
      const path = make(dir);
      const spec = parseAgentSpec(join(dir, 'agent.yaml'), `name: t\nmodel: local/${path}\n`);
      const error = await resolveModel(spec, config()).catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    });
  }

  it('a name not in the model folders says where it looked', async () => {
    const home = tempDir();
    const spec = parseAgentSpec(join(home, 'agent.yaml'), 'name: t\nmodel: local/absent.gguf\n');
    await expect(resolveModel(spec, config(home))).rejects.toThrow(
      `local/absent.gguf: no GGUF file of that name in ${join(home, 'models')}`,
    );
  });

  it(
    'agentd run prints the line and exits non-zero, without a stack trace',
    async () => {
      const home = tempDir();
      const dir = tempDir();
      writeFileSync(join(dir, 'agent.yaml'), 'name: t\nmodel: local/./missing.gguf\n');
      const result = await agentd(['run', join(dir, 'agent.yaml'), 'hi'], { home });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`no such file ${join(dir, 'missing.gguf')}`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    },
    hangGuard,
  );
});

describe('examples/offline-local', () => {
  it(
    'completes a tool-using run on the tiny GGUF, offline, the call valid for the tool',
    async () => {
      const home = tempDir();
      const result = await agentd(
        [
          'run',
          'examples/offline-local/agent.yaml',
          '--json',
          'Count the words of: to be or not to be',
        ],
        { home },
      );
      expect(result.code, result.stderr).toBe(0);
      const events = result.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { type: string; data: Record<string, unknown> });
      const call = events.find((e) => e.type === 'tool.call');
      expect(call?.data.name).toBe('count_words');
      const ajv = new Ajv({ strict: false });
      const validate = ajv.compile({
        type: 'object',
        properties: { text: { type: 'string', maxLength: 40 } },
        required: ['text'],
      });
      expect(validate(call?.data.input)).toBe(true);
      const toolResult = events.find((e) => e.type === 'tool.result');
      expect(toolResult?.data.errorKind).toBeUndefined();
      expect(events.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'completed' } });
    },
    hangGuard,
  );
});
