import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { parseAgentSpec } from '../../src/definition/agent-spec.ts';
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

async function localModel(model: string, provider = '  context_size: 4096\n'): Promise<LocalModel> {
  const dir = tempDir();
  const spec = parseAgentSpec(
    join(dir, 'agent.yaml'),
    `name: t\nmodel: ${model}\nprovider:\n${provider}`,
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

  it('refuses effort with one line: local models take none', async () => {
    const dir = tempDir();
    const spec = parseAgentSpec(
      join(dir, 'agent.yaml'),
      `name: t\nmodel: local/${fixture}\neffort: high\n`,
    );
    await expect(resolveModel(spec, config())).rejects.toThrow(
      /effort: local models take no effort setting/,
    );
  });

  it('rejects local-only provider options on other providers', () => {
    expect(() =>
      parseAgentSpec('/x/agent.yaml', 'name: t\nmodel: openai/gpt-5\nprovider:\n  sequences: 2\n'),
    ).toThrow(/only apply to local models/);
  });
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
