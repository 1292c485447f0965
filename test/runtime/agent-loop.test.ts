import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { foldRun } from '../../src/core/run-state.ts';
import { ModelCallError } from '../../src/models/model.ts';
import { type AgentDefinition, runAgent } from '../../src/runtime/agent-loop.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import type { Tool } from '../../src/tools/tool.ts';
import { type Turn, TurnModel } from '../support/models.ts';

const fastRetries = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 5 };

const add = defineTool({
  name: 'add',
  description: 'Add two numbers.',
  input: z.object({ a: z.number(), b: z.number() }),
  execute: ({ a, b }) => a + b,
});

function agent(
  model: TurnModel,
  tools: Tool[] = [add],
  limits?: AgentDefinition['limits'],
): AgentDefinition {
  return { name: 'test', instructions: 'be brief', model, tools, ...(limits ? { limits } : {}) };
}

async function run(
  turns: Turn[],
  options: { tools?: Tool[]; limits?: AgentDefinition['limits']; signal?: AbortSignal } = {},
) {
  const store = new SqliteStore({ path: ':memory:' });
  const model = new TurnModel(turns);
  const result = await runAgent({
    store,
    agent: agent(model, options.tools, options.limits),
    task: 'do it',
    retryPolicy: fastRetries,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const events = await store.readEvents(result.runId);
  return { store, model, result, events, state: result.state };
}

describe('agent loop', () => {
  it('runs tool calls, feeds results back and stops on the final answer; the fold equals what the loop saw', async () => {
    const { model, events, state, result } = await run([
      { text: 'Adding.', calls: [{ name: 'add', input: { a: 2, b: 3 } }] },
      { text: 'It is 5.' },
    ]);
    expect(state.status).toBe('completed');
    expect(state.reason).toBe('final_answer');
    expect(state.output).toBe('It is 5.');
    expect(state.turns).toBe(2);
    expect(state.usage.inputTokens).toBe(200);
    expect(events.map((e) => e.type)).toEqual([
      'run.started',
      'model.request',
      'model.response',
      'tool.call',
      'tool.result',
      'model.request',
      'model.response',
      'run.finished',
    ]);
    // what the model was sent on turn 2 is exactly the folded conversation up to then
    expect(model.requests[1]?.messages).toEqual(foldRun(result.runId, events.slice(0, 5)).messages);
    expect(model.requests[1]?.messages.at(-1)).toEqual({
      role: 'tool',
      results: [{ callId: 'call_1_0', name: 'add', output: 5, isError: false }],
    });
    expect(model.requests[0]?.instructions).toBe('be brief');
    expect(model.requests[0]?.tools[0]).toMatchObject({
      name: 'add',
      inputSchema: { type: 'object' },
    });
    const folded = foldRun(result.runId, events);
    expect(folded).toEqual(state);
    const pricing = model.entry!.pricing!;
    expect(state.costUsd).toBeCloseTo((2 * (100 * pricing.input + 20 * pricing.output)) / 1e6, 10);
    const call = events.find((e) => e.type === 'tool.call');
    expect(call?.type === 'tool.call' && call.data.idempotencyKey).toBe(
      `${result.runId}:${call?.seq}`,
    );
  });

  it('runs parallel tool calls at the same time and returns results in call order', async () => {
    let running = 0;
    let peak = 0;
    const slow = defineTool({
      name: 'slow',
      description: 'Waits, then echoes.',
      input: z.object({ ms: z.number(), tag: z.string() }),
      async execute({ ms, tag }) {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, ms));
        running--;
        return tag;
      },
    });
    const { model, state, events } = await run(
      [
        {
          calls: [
            { name: 'slow', input: { ms: 60, tag: 'first' } },
            { name: 'slow', input: { ms: 5, tag: 'second' } },
            { name: 'slow', input: { ms: 30, tag: 'third' } },
          ],
        },
        { text: 'done' },
      ],
      { tools: [slow] },
    );
    expect(state.status).toBe('completed');
    expect(peak).toBe(3);
    // all three calls are logged before any result
    expect(events.slice(3, 6).map((e) => e.type)).toEqual(['tool.call', 'tool.call', 'tool.call']);
    // results were logged as they finished, but the model sees them in call order
    const logged = events
      .filter((e) => e.type === 'tool.result')
      .map((e) => e.type === 'tool.result' && e.data.output);
    expect(logged).toEqual(['second', 'third', 'first']);
    const last = model.requests[1]?.messages.at(-1);
    expect(last?.role === 'tool' && last.results.map((r) => r.output)).toEqual([
      'first',
      'second',
      'third',
    ]);
  });

  it('gives a throwing tool error back to the model as a tool result', async () => {
    const broken = defineTool({
      name: 'broken',
      description: 'Always fails.',
      input: z.object({}),
      execute() {
        throw new Error('disk on fire');
      },
    });
    const { model, state } = await run(
      [{ calls: [{ name: 'broken', input: {} }] }, { text: 'It failed.' }],
      {
        tools: [broken],
      },
    );
    expect(state.status).toBe('completed');
    expect(state.toolErrors).toBe(1);
    const last = model.requests[1]?.messages.at(-1);
    expect(last).toEqual({
      role: 'tool',
      results: [
        { callId: 'call_1_0', name: 'broken', output: 'Error: disk on fire', isError: true },
      ],
    });
  });

  it('returns arguments that fail the schema as a validation error the model can repair', async () => {
    const { model, state, events } = await run([
      { calls: [{ name: 'add', input: { a: 'two', b: 3 } }] },
      { calls: [{ name: 'add', input: { a: 2, b: 3 } }] },
      { text: '5' },
    ]);
    expect(state.status).toBe('completed');
    const first = model.requests[1]?.messages.at(-1);
    expect(first?.role === 'tool' && first.results[0]).toMatchObject({ isError: true });
    expect(first?.role === 'tool' && String(first.results[0]?.output)).toMatch(
      /^Invalid arguments for add: a: .*expected number.*Fix the arguments/,
    );
    const results = events.filter((e) => e.type === 'tool.result');
    expect(results.map((e) => e.type === 'tool.result' && e.data.errorKind)).toEqual([
      'validation',
      undefined,
    ]);
  });

  it('fails the run when the model keeps sending invalid arguments past the repair limit', async () => {
    const bad = { calls: [{ name: 'add', input: { a: 'x' } }] };
    const { state } = await run([bad, bad, bad], { limits: { maxToolRepairs: 2 } });
    expect(state.status).toBe('failed');
    expect(state.reason).toBe('tool_arguments_invalid');
    expect(state.detail).toContain('invalid arguments for add 3 times');
  });

  it('answers an unknown tool or non-JSON arguments with an error result naming what exists', async () => {
    const { model, state } = await run([
      {
        calls: [
          { name: 'multiply', input: {} },
          { name: 'add', input: '{"a": 1,' },
        ],
      },
      { text: 'ok' },
    ]);
    expect(state.status).toBe('completed');
    const last = model.requests[1]?.messages.at(-1);
    expect(last?.role === 'tool' && last.results.map((r) => r.output)).toEqual([
      'Unknown tool "multiply". Available tools: add.',
      expect.stringMatching(/^The arguments for add are not valid JSON/),
    ]);
  });

  it('stops at max turns without running the calls of the last turn', async () => {
    let ran = 0;
    const counted = defineTool({
      name: 'count',
      description: 'Counts.',
      input: z.object({}),
      execute: () => ++ran,
    });
    const loop = { calls: [{ name: 'count', input: {} }] };
    const { state, events } = await run([loop, loop, loop, loop], {
      tools: [counted],
      limits: { maxTurns: 2 },
    });
    expect(state.status).toBe('budget_exceeded');
    expect(state.reason).toBe('max_turns');
    expect(state.turns).toBe(2);
    expect(ran).toBe(1);
    expect(state.detail).toContain('reached limits.max_turns (2 of 2 turns)');
    expect(events.at(-1)?.type).toBe('run.finished');
  });

  it('ends as cancelled when aborted while the model streams', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled by the user')), 20);
    const { state, events } = await run([{ hang: true }], { signal: controller.signal });
    expect(state.status).toBe('cancelled');
    expect(state.reason).toBe('cancelled');
    expect(events.at(-1)?.type).toBe('run.finished');
  });

  it('ends as cancelled when aborted while a tool ignores the signal', async () => {
    const controller = new AbortController();
    let finished = false;
    const stubborn = defineTool({
      name: 'stubborn',
      description: 'Never looks at the signal.',
      input: z.object({}),
      execute: () => {
        // cancelled once it runs; it goes on for 5 s regardless
        controller.abort(new Error('cancelled by the user'));
        return new Promise((r) => {
          setTimeout(() => {
            finished = true;
            r('too late');
          }, 5_000).unref();
        });
      },
    });
    const { state, events } = await run(
      [{ calls: [{ name: 'stubborn', input: {} }] }, { text: 'never' }],
      {
        tools: [stubborn],
        signal: controller.signal,
      },
    );
    // the run ended without waiting for the tool
    expect(finished).toBe(false);
    expect(state.status).toBe('cancelled');
    const result = events.find((e) => e.type === 'tool.result');
    expect(result?.type === 'tool.result' && result.data.errorKind).toBe('cancelled');
  });

  it('retries a provider error that may pass, recording each retry', async () => {
    const { state, events } = await run([
      {
        fail: new ModelCallError('anthropic returned 529: Overloaded', {
          status: 529,
          retryable: true,
          retryAfterMs: 0,
        }),
      },
      { text: 'fine now' },
    ]);
    expect(state.status).toBe('completed');
    const retry = events.find((e) => e.type === 'model.retry');
    expect(retry?.type === 'model.retry' && retry.data).toMatchObject({ attempt: 1, status: 529 });
  });

  it('records a run whose model fails permanently as failed, with the provider message', async () => {
    const { state, events, store, result } = await run([
      {
        fail: new ModelCallError('anthropic returned 400: prompt is too long', {
          status: 400,
          retryable: false,
        }),
      },
    ]);
    expect(state.status).toBe('failed');
    expect(state.reason).toBe('model_error');
    expect(state.detail).toBe('anthropic returned 400: prompt is too long');
    expect(events.map((e) => e.type)).toEqual([
      'run.started',
      'model.request',
      'run.error',
      'run.finished',
    ]);
    expect((await store.getRun(result.runId))?.status).toBe('failed');
  });

  it('keeps two interleaved runs on one store separate', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const turns = (n: number): Turn[] => [
      { calls: [{ name: 'add', input: { a: n, b: n } }] },
      { text: `${n * 2}` },
    ];
    const [a, b] = await Promise.all([
      runAgent({ store, agent: agent(new TurnModel(turns(1))), task: 'one' }),
      runAgent({ store, agent: agent(new TurnModel(turns(2))), task: 'two' }),
    ]);
    for (const [r, output] of [
      [a, '2'],
      [b, '4'],
    ] as const) {
      const events = await store.readEvents(r.runId);
      expect(foldRun(r.runId, events)).toEqual(r.state);
      expect(r.state.output).toBe(output);
    }
  });
});

describe('tool progress', () => {
  it('is recorded as tool.progress events, throttled, always with the final one', async () => {
    const slowly = defineTool({
      name: 'slowly',
      description: 'Reports progress.',
      input: z.object({}),
      async execute(_, { onProgress }) {
        for (let i = 1; i <= 5; i++) onProgress?.({ progress: i, total: 5, message: `step ${i}` });
        return 'done';
      },
    });
    const { events } = await run([{ calls: [{ name: 'slowly', input: {} }] }, { text: 'ok' }], {
      tools: [slowly],
    });
    const progress = events.flatMap((e) => (e.type === 'tool.progress' ? [e.data] : []));
    // the first report, then nothing within half a second, then the one that says it is done
    expect(progress.map((p) => p.progress)).toEqual([1, 5]);
    expect(progress[1]).toMatchObject({ name: 'slowly', total: 5, message: 'step 5' });
    const resultSeq = events.findIndex((e) => e.type === 'tool.result');
    expect(events.findIndex((e) => e.type === 'tool.progress')).toBeLessThan(resultSeq);
  });
});
