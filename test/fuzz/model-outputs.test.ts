import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentdError } from '../../src/core/errors.ts';
import type { RunEvent } from '../../src/core/events.ts';
import { ModelCallError } from '../../src/models/model.ts';
import { runAgent } from '../../src/runtime/agent-loop.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import type { BytesReply } from '../support/fake-provider/reply.ts';
import { FakeProvider, reply } from '../support/fake-provider.ts';
import { type Api, fastRetry, modelOn } from '../support/provider-models.ts';

/**
 * Hostile model outputs served byte for byte by the fake provider (a `bytes` reply) to real
 * runs (runAgent with the AiSdkModel agentd resolves), for the three wire formats, streamed
 * (a live listener) and whole: broken tool-call JSON, cut and reordered SSE, unknown events,
 * duplicate indexes, wrong types in usage and stop reasons, unknown tools, empty bodies.
 * Property: the run ends as a result or a one-line error, its log is consistent, no hang, no
 * unhandled rejection. AGENTD_FUZZ_RUNS for a longer budget, AGENTD_FUZZ_SEED to replay one.
 */
const runs = Number(process.env.AGENTD_FUZZ_RUNS ?? 24);
const seed = process.env.AGENTD_FUZZ_SEED ? Number(process.env.AGENTD_FUZZ_SEED) : 20261207;
const hangMs = 15_000;

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks a key up',
  input: z.object({ key: z.string() }),
  execute: ({ key }) => `value of ${key}`,
});

const apis: Api[] = ['anthropic', 'openai-responses', 'openai-chat'];

const argsJson = fc.oneof(
  fc.constantFrom(
    '{"key":"a"}',
    '{"key":',
    '{"key":7}',
    '[1,2]',
    '{"key":"a","key":null}',
    '{"key":1e999999}',
    '{"key":"\\u0000"}',
    '',
    'null',
    '{"key":"\uD800"}',
    '{{{{',
    `{"key":"${'x'.repeat(20_000)}"}`,
    `${'['.repeat(5000)}`,
  ),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 30 }),
);
const toolName = fc.constantFrom(
  'lookup',
  'nope',
  '',
  'lookup\u0000',
  'fs__write',
  'x'.repeat(3000),
);
const weird = fc.oneof(
  fc.constantFrom(null, -1, 1e308, 'many', [], {}, true, '12345678901234567890'),
  fc.jsonValue({ maxDepth: 2 }),
);
const stop = fc.oneof(
  fc.constantFrom('end_turn', 'tool_use', 'stop', 'tool_calls', 'length', 'max_tokens'),
  weird,
);

interface Parts {
  name: string;
  args: string;
  tokens: unknown;
  stop: unknown;
  text: string;
}
const parts: fc.Arbitrary<Parts> = fc.record({
  name: toolName,
  args: argsJson,
  tokens: fc.oneof(fc.nat(1000), weird),
  stop,
  text: fc.oneof(fc.string({ maxLength: 20 }), fc.constant('')),
});

function sse(event: string | undefined, data: unknown): string {
  const body = typeof data === 'string' ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ''}data: ${body}\n\n`;
}

function streamFrames(api: Api, p: Parts): string[] {
  switch (api) {
    case 'anthropic':
      return [
        sse('message_start', {
          type: 'message_start',
          message: {
            id: 'msg_1',
            type: 'message',
            role: 'assistant',
            model: 'claude-sonnet-4-5',
            content: [],
            stop_reason: null,
            usage: { input_tokens: p.tokens, output_tokens: 1 },
          },
        }),
        sse('content_block_start', {
          type: 'content_block_start',
          index: 0,
          content_block: { type: 'text', text: '' },
        }),
        sse('content_block_delta', {
          type: 'content_block_delta',
          index: 0,
          delta: { type: 'text_delta', text: p.text },
        }),
        sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
        sse('content_block_start', {
          type: 'content_block_start',
          index: 1,
          content_block: { type: 'tool_use', id: 'toolu_1', name: p.name, input: {} },
        }),
        sse('content_block_delta', {
          type: 'content_block_delta',
          index: 1,
          delta: { type: 'input_json_delta', partial_json: p.args },
        }),
        sse('content_block_stop', { type: 'content_block_stop', index: 1 }),
        sse('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: p.stop, stop_sequence: null },
          usage: { output_tokens: p.tokens },
        }),
        sse('message_stop', { type: 'message_stop' }),
      ];
    case 'openai-chat': {
      const chunk = (delta: unknown, finish: unknown, extra: object = {}) =>
        sse(undefined, {
          id: 'chatcmpl-1',
          object: 'chat.completion.chunk',
          created: 1,
          model: 'gpt-4.1',
          choices: [{ index: 0, delta, finish_reason: finish }],
          ...extra,
        });
      return [
        chunk({ role: 'assistant', content: p.text }, null),
        chunk(
          {
            tool_calls: [
              {
                index: 0,
                id: 'call_1',
                type: 'function',
                function: { name: p.name, arguments: '' },
              },
            ],
          },
          null,
        ),
        chunk({ tool_calls: [{ index: 0, function: { arguments: p.args } }] }, null),
        chunk({}, p.stop),
        sse(undefined, {
          id: 'chatcmpl-1',
          object: 'chat.completion.chunk',
          created: 1,
          model: 'gpt-4.1',
          choices: [],
          usage: { prompt_tokens: p.tokens, completion_tokens: p.tokens, total_tokens: 2 },
        }),
        'data: [DONE]\n\n',
      ];
    }
    default: {
      const item = {
        type: 'function_call',
        id: 'fc_1',
        call_id: 'call_1',
        name: p.name,
        arguments: '',
        status: 'in_progress',
      };
      const response = { id: 'resp_1', object: 'response', model: 'gpt-5.1', output: [] };
      return [
        sse('response.created', { type: 'response.created', response, sequence_number: 0 }),
        sse('response.output_item.added', {
          type: 'response.output_item.added',
          output_index: 0,
          item,
          sequence_number: 1,
        }),
        sse('response.function_call_arguments.delta', {
          type: 'response.function_call_arguments.delta',
          item_id: 'fc_1',
          output_index: 0,
          delta: p.args,
          sequence_number: 2,
        }),
        sse('response.output_item.done', {
          type: 'response.output_item.done',
          output_index: 0,
          item: { ...item, arguments: p.args, status: 'completed' },
          sequence_number: 3,
        }),
        sse('response.completed', {
          type: 'response.completed',
          response: {
            ...response,
            status: p.stop,
            usage: { input_tokens: p.tokens, output_tokens: p.tokens, total_tokens: 3 },
          },
          sequence_number: 4,
        }),
      ];
    }
  }
}

function wholeBody(api: Api, p: Parts): unknown {
  switch (api) {
    case 'anthropic':
      return {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [
          { type: 'text', text: p.text },
          { type: 'tool_use', id: 'toolu_1', name: p.name, input: safeParse(p.args) },
        ],
        stop_reason: p.stop,
        usage: { input_tokens: p.tokens, output_tokens: p.tokens },
      };
    case 'openai-chat':
      return {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4.1',
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: p.text,
              tool_calls: [
                { id: 'call_1', type: 'function', function: { name: p.name, arguments: p.args } },
              ],
            },
            finish_reason: p.stop,
          },
        ],
        usage: { prompt_tokens: p.tokens, completion_tokens: p.tokens },
      };
    default:
      return {
        id: 'resp_1',
        object: 'response',
        model: 'gpt-5.1',
        status: p.stop,
        output: [
          { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: p.name, arguments: p.args },
        ],
        usage: { input_tokens: p.tokens, output_tokens: p.tokens },
      };
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** How the frames are spoiled before they are served. */
const mutation = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('drop-tail' as const), n: fc.integer({ min: 1, max: 6 }) }),
  fc.record({
    kind: fc.constant('cut-bytes' as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.record({
    kind: fc.constant('shuffle' as const),
    order: fc.array(fc.nat(20), { maxLength: 9 }),
  }),
  fc.record({ kind: fc.constant('duplicate' as const), i: fc.nat(8) }),
  fc.record({
    kind: fc.constant('unknown-event' as const),
    i: fc.nat(8),
    frame: fc.constantFrom(
      'event: surprise\ndata: {"type":"surprise"}\n\n',
      'data: {not json\n\n',
      ': comment\n\n',
      'data: \u0000\n\n',
      'event: error\ndata: {"type":"error","error":{"type":"x","message":7}}\n\n',
    ),
  }),
  fc.constant({ kind: 'empty' as const }),
  fc.constant({ kind: 'invalid-utf8' as const }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function spoil(frames: string[], m: Mutation, whole: boolean): (string | Uint8Array)[] {
  switch (m.kind) {
    case 'none':
      return frames;
    case 'drop-tail':
      return frames.slice(0, Math.max(0, frames.length - m.n));
    case 'cut-bytes': {
      const all = frames.join('');
      return [all.slice(0, Math.floor(all.length * m.at))];
    }
    case 'shuffle':
      return whole ? frames : m.order.map((i) => frames[i % frames.length] ?? '');
    case 'duplicate': {
      const copy = [...frames];
      const i = m.i % copy.length;
      copy.splice(i, 0, copy[i] ?? '');
      return copy;
    }
    case 'unknown-event': {
      const copy: string[] = [...frames];
      copy.splice(m.i % (copy.length + 1), 0, m.frame);
      return copy;
    }
    case 'empty':
      return [];
    case 'invalid-utf8':
      return [
        ...frames.slice(0, 2),
        Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x0a, 0x0a]),
        ...frames.slice(2),
      ];
  }
}

function hostile(
  api: Api,
  p: Parts,
  m: Mutation,
  live: boolean,
  close: 'end' | 'destroy',
): BytesReply {
  if (live) {
    return {
      kind: 'bytes',
      status: 200,
      contentType: 'text/event-stream',
      chunks: spoil(streamFrames(api, p), m, false),
      close,
    };
  }
  const text = JSON.stringify(wholeBody(api, p));
  const chunks = m.kind === 'none' ? [text] : spoil([text], m, true);
  return { kind: 'bytes', status: 200, contentType: 'application/json', chunks, close };
}

/** The log of a run is consistent whatever the model said. */
function checkLog(events: RunEvent[]): void {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  expect(events.filter((e) => e.type === 'run.started')).toHaveLength(1);
  expect(events.filter((e) => e.type === 'run.finished').length).toBeLessThanOrEqual(1);
  // A model may reuse a call id in a later turn; per id, never more results than calls.
  const balance = new Map<string, number>();
  for (const e of events) {
    if (e.type === 'tool.call') balance.set(e.data.callId, (balance.get(e.data.callId) ?? 0) + 1);
    if (e.type === 'tool.result') {
      const open = balance.get(e.data.callId) ?? 0;
      expect(open, `tool.result ${e.data.callId} without an open tool.call`).toBeGreaterThan(0);
      balance.set(e.data.callId, open - 1);
    }
  }
  for (const e of events) {
    if (e.type === 'run.finished' && e.data.detail !== undefined) {
      expect(e.data.detail).not.toContain('\n');
    }
  }
}

describe('fuzzing model outputs through real runs', () => {
  let fake: FakeProvider;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(async () => {
    fake = await FakeProvider.start();
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await fake.close();
  });

  it('every hostile output ends in a result or a one-line error, with a consistent log', async () => {
    const seen = { completed: 0, failed: 0, thrown: 0, toolCalls: 0 };
    const models = new Map<Api, Awaited<ReturnType<typeof modelOn>>>();
    for (const api of apis) models.set(api, await modelOn(fake, api));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...apis),
        fc.boolean(),
        parts,
        mutation,
        fc.constantFrom<'end' | 'destroy'>('end', 'destroy'),
        fc.boolean(),
        async (api, live, p, m, close, persistent) => {
          fake.reset();
          // Persistent: every attempt (the first and its retries) gets the hostile output.
          const copies = persistent ? fastRetry.maxRetries + 1 : 1;
          for (let i = 0; i < copies; i++) fake.enqueue(hostile(api, p, m, live, close));
          for (let i = 0; i < 6; i++) fake.enqueue(reply.text('done'));
          const store = new SqliteStore({ path: ':memory:' });
          try {
            const model = models.get(api);
            if (!model) throw new Error(`no model for ${api}`);
            let guard: NodeJS.Timeout | undefined;
            const hang = new Promise<never>((_, reject) => {
              guard = setTimeout(() => reject(new Error(`hang: ${api} live=${live}`)), hangMs);
            });
            let runId: string | undefined;
            try {
              const result = await Promise.race([
                runAgent({
                  store,
                  agent: {
                    name: 'fuzz',
                    instructions: 'Be brief.',
                    model,
                    tools: [lookup],
                    settings: { maxOutputTokens: 4096 },
                  },
                  task: 'Look up a.',
                  retryPolicy: fastRetry,
                  ...(live ? { onLive: () => {} } : {}),
                }),
                hang,
              ]);
              runId = result.runId;
              if (result.state.status === 'completed') seen.completed++;
              else seen.failed++;
            } catch (error) {
              if (error instanceof Error && error.message.startsWith('hang:')) throw error;
              expect(error instanceof AgentdError || error instanceof ModelCallError).toBe(true);
              expect((error as Error).message).not.toContain('\n');
              seen.thrown++;
            } finally {
              clearTimeout(guard);
            }
            if (runId) {
              const events = await store.readEvents(runId);
              checkLog(events);
              seen.toolCalls += events.filter((e) => e.type === 'tool.call').length;
            }
            expect(unhandled).toEqual([]);
          } finally {
            store.close();
          }
        },
      ),
      { numRuns: runs, seed, endOnFailure: true },
    );
    // The campaign reached both ends: runs that completed (some through tool calls) and runs
    // that failed on what the model sent.
    expect(seen.completed).toBeGreaterThan(0);
    expect(seen.failed + seen.thrown).toBeGreaterThan(0);
    expect(seen.toolCalls).toBeGreaterThan(0);
    console.info(`model-outputs fuzz: ${runs} runs, ${JSON.stringify(seen)}`);
  }, 60_000);
});
