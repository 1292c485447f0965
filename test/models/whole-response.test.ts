import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import type { RunEvent } from '../../src/core/events.ts';
import { ModelCallError, type ModelRequest } from '../../src/models/model.ts';
import { createModel } from '../../src/models/providers.ts';
import { type LiveUpdate, runAgent } from '../../src/runtime/agent-loop.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import { FakeProvider, reply } from '../support/fake-provider.ts';
import {
  type Api,
  apis,
  collect,
  fastRetry,
  modelOn,
  rejection,
  run,
} from '../support/provider-models.ts';

/**
 * A request nobody watches live (`live: false`) is fetched whole (`doGenerate`, no `stream`
 * in the body) and yields what its stream would have: the same text, calls, usage and stop
 * reason, the same retries and errors. Anthropic requests that may run long stream anyway.
 */

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks a key up',
  input: z.object({ key: z.string() }),
  execute: ({ key }) => `value of ${key}`,
});

/** Anthropic requests go whole only with an output limit its SDK would send unstreamed. */
const settings = { maxOutputTokens: 4096 };

function request(live: boolean, extra: Partial<ModelRequest> = {}): ModelRequest {
  return {
    instructions: 'Be brief.',
    messages: [{ role: 'user', text: 'Look up a and b.' }],
    tools: [
      {
        name: 'lookup',
        description: 'Looks a key up',
        inputSchema: { type: 'object', properties: { key: { type: 'string' } } },
      },
    ],
    settings,
    live,
    ...extra,
  };
}

const usage = {
  inputTokens: 1200,
  outputTokens: 80,
  cachedInputTokens: 1000,
  reasoningTokens: 30,
};

function toolReply() {
  return reply.toolCalls(
    [
      { name: 'lookup', input: { key: 'a' }, id: 'call_a' },
      { name: 'lookup', input: { key: 'b' }, id: 'call_b' },
    ],
    { text: 'Looking both up.', usage },
  );
}

describe('whole responses when nobody watches live', () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await FakeProvider.start();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  for (const api of apis) {
    describe(api, () => {
      it('yields the text, calls, usage and stop reason its stream yields, from one unstreamed request', async () => {
        const model = await modelOn(fake, api);
        fake.enqueue(toolReply(), toolReply());
        const streamed = await run(model, request(true));
        const whole = await run(model, request(false));

        expect(fake.requests[0]!.body.stream).toBe(true);
        expect(fake.requests[1]!.body.stream).toBeUndefined();
        expect(whole.text).toBe('Looking both up.');
        expect(whole.text).toBe(streamed.text);
        expect(whole.textDeltas).toBe(1);
        expect(streamed.textDeltas).toBeGreaterThan(1);
        expect(whole.calls).toEqual([
          { id: 'call_a', name: 'lookup', input: { key: 'a' } },
          { id: 'call_b', name: 'lookup', input: { key: 'b' } },
        ]);
        expect(whole.calls).toEqual(streamed.calls);
        expect(whole.starts).toEqual(streamed.starts);
        expect(whole.finish).toEqual(streamed.finish);
        expect(whole.finish).toMatchObject({
          stopReason: 'tool_calls',
          usage: { inputTokens: 1200, outputTokens: 80, cachedInputTokens: 1000 },
        });
        // Reasoning tokens come through where the wire format carries them.
        expect(whole.finish?.usage.reasoningTokens).toBe(streamed.finish?.usage.reasoningTokens);
      });

      it('maps end and length stops the way streams do', async () => {
        const model = await modelOn(fake, api);
        for (const stop of ['end', 'max-tokens'] as const) {
          fake.enqueue(reply.text('Done here.', { stop }), reply.text('Done here.', { stop }));
          const streamed = await run(model, request(true));
          const whole = await run(model, request(false));
          expect(whole.finish?.stopReason).toBe(stop === 'end' ? 'end_turn' : 'max_tokens');
          expect(whole.finish).toEqual(streamed.finish);
          expect(whole.text).toBe('Done here.');
        }
      });

      it('retries a 429 and a 500, then answers; the retries are the same notices', async () => {
        const model = await modelOn(fake, api);
        fake.enqueue(reply.rateLimited(0), reply.serverError(), reply.text('Fine now.'));
        const whole = await run(model, request(false));
        expect(whole.retries.map((r) => r.error.status)).toEqual([429, 500]);
        expect(whole.text).toBe('Fine now.');
        expect(fake.requests.every((r) => r.body.stream === undefined)).toBe(true);
      });

      it('gives up on repeated 500s with the provider message, and does not retry a 401', async () => {
        const model = await modelOn(fake, api);
        fake.enqueue(
          ...Array.from({ length: 4 }, () => reply.serverError('the kitchen is on fire')),
        );
        const failed = await rejection(run(model, request(false)));
        expect(failed).toBeInstanceOf(ModelCallError);
        expect((failed as Error).message).toContain('the kitchen is on fire');
        expect((failed as Error).message).toContain('gave up after 4 attempts');
        expect((failed as Error).message).not.toContain('\n');

        fake.reset();
        fake.enqueue(reply.unauthorized());
        const refused = await rejection(run(model, request(false)));
        expect((refused as ModelCallError).status).toBe(401);
        expect((refused as Error).message).toMatch(/returned 401: .*\(check /);
        expect(fake.requests).toHaveLength(1);
      });

      it('retries a connection dropped or a body cut short inside the whole response', async () => {
        const model = await modelOn(fake, api);
        fake.enqueue(reply.drop(toolReply(), 1), reply.truncate(toolReply(), 1), toolReply());
        const whole = await run(model, request(false));
        expect(whole.retries).toHaveLength(2);
        expect(whole.calls.map((c) => c.id)).toEqual(['call_a', 'call_b']);
      });

      it('sends effort the way the stream does', async () => {
        const model = await modelOn(fake, api);
        fake.enqueue(reply.text('ok'), reply.text('ok'));
        const effortful = { settings: { ...settings, effort: 'high' as const } };
        await run(model, request(true, effortful));
        await run(model, request(false, effortful));
        // What only a stream asks for: its options, and Anthropic's eager tool-input deltas.
        const [streamed, whole] = fake.requests.map((r) => {
          const { stream: _s, stream_options: _o, ...rest } = r.body;
          return JSON.parse(
            JSON.stringify(rest, (key, value) =>
              key === 'eager_input_streaming' ? undefined : value,
            ),
          );
        });
        expect(whole).toEqual(streamed);
      });
    });
  }

  it('Anthropic streams a request with no output limit (its SDK would refuse it unstreamed)', async () => {
    const model = await modelOn(fake, 'anthropic');
    fake.enqueue(reply.text('ok'), reply.text('ok'));
    await run(model, request(false, { settings: {} }));
    await run(model, request(false, { settings: { maxOutputTokens: 32_000 } }));
    expect(fake.requests.map((r) => r.body.stream)).toEqual([true, true]);
  });

  it('keeps provider compaction: Anthropic summary first, OpenAI item after the message', async () => {
    const anthropic = await modelOn(fake, 'anthropic');
    const openai = await modelOn(fake, 'openai-responses');
    for (const model of [anthropic, openai]) {
      fake.enqueue({ ...reply.text('Continuing.'), compaction: 'Summary: a, b done.' });
      fake.enqueue({ ...reply.text('Continuing.'), compaction: 'Summary: a, b done.' });
      const streamed = await run(model, request(true));
      const whole = await run(model, request(false));
      // The item's id is the fake's, one per request: the rest must match.
      const compactions = (parts: typeof whole.parts) =>
        JSON.parse(
          JSON.stringify(
            parts.filter((p) => p.type === 'compaction'),
            (key, value) => (key === 'itemId' ? undefined : value),
          ),
        );
      expect(compactions(whole.parts)).toHaveLength(1);
      expect(compactions(whole.parts)).toEqual(compactions(streamed.parts));
      expect(whole.text).toBe('Continuing.');
    }
  });

  it('the whole response is given up after the stall timeout, and an abort ends it at once', async () => {
    const silent = await silentProvider();
    const model = await createModel({
      provider: 'openai-compatible',
      id: 'qwen3:8b',
      apiKey: 'sk-test-silent',
      baseUrl: silent.url,
    });
    const previous = process.env.AGENTD_MODEL_STALL_TIMEOUT;
    process.env.AGENTD_MODEL_STALL_TIMEOUT = '0.2';
    onTestFinished(() => {
      if (previous === undefined) delete process.env.AGENTD_MODEL_STALL_TIMEOUT;
      else process.env.AGENTD_MODEL_STALL_TIMEOUT = previous;
    });
    const stalled = await rejection(collect(model.stream(request(false))));
    expect(stalled).toBeInstanceOf(ModelCallError);
    expect((stalled as ModelCallError).retryable).toBe(true);
    expect((stalled as Error).message).toContain('the provider sent nothing for 0.2 s');
    expect(silent.bodies()[0]!.stream).toBeUndefined();

    process.env.AGENTD_MODEL_STALL_TIMEOUT = '600';
    const controller = new AbortController();
    const reason = new Error('stopped by the test');
    silent.onRequest(() => controller.abort(reason));
    const aborted = await rejection(collect(model.stream(request(false), controller.signal)));
    expect(aborted).toBe(reason);
    expect(silent.bodies()).toHaveLength(2);
  });
});

describe('a run records the same events whether it streams or not', () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await FakeProvider.start();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  async function drive(api: Api, onLive?: (update: LiveUpdate) => void) {
    const model = await modelOn(fake, api);
    const store = new SqliteStore({ path: ':memory:' });
    onTestFinished(() => store.close());
    fake.enqueue(reply.rateLimited(0), toolReply(), reply.text('a and b are known.'));
    const result = await runAgent({
      store,
      agent: { name: 'w', instructions: 'Be brief.', model, tools: [lookup], settings },
      task: 'Look up a and b.',
      retryPolicy: fastRetry,
      ...(onLive ? { onLive } : {}),
    });
    expect(result.state.status).toBe('completed');
    return (await store.readEvents(result.runId)).map(comparable);
  }

  for (const api of apis) {
    it(`${api}: with a live listener it streams and the listener gets deltas; without one it does not stream; the log is the same`, async () => {
      const updates: LiveUpdate[] = [];
      const live = await drive(api, (update) => updates.push(update));
      const liveRequests = fake.requests.map((r) => r.body.stream);
      fake.reset();
      const quiet = await drive(api);
      const quietRequests = fake.requests.map((r) => r.body.stream);

      expect(liveRequests).toEqual([true, true, true]);
      expect(quietRequests).toEqual([undefined, undefined, undefined]);
      expect(updates.filter((u) => u.type === 'text-delta').length).toBeGreaterThan(2);
      expect(updates.filter((u) => u.type === 'tool-call-start')).toHaveLength(2);
      expect(quiet).toEqual(live);
      expect(quiet.map((e) => e.type)).toContain('model.retry');
    });
  }
});

/** An event without what differs from run to run (its run's id, times, durations). */
function comparable(event: RunEvent): { seq: number; type: string; data: unknown } {
  const text = JSON.stringify(
    { seq: event.seq, type: event.type, data: event.data },
    (key, value) => (key === 'durationMs' || key === 'at' || key === 'delayMs' ? undefined : value),
  );
  return JSON.parse(text.replaceAll(event.runId, '<run>'));
}

/** A server that takes requests and never answers them. */
async function silentProvider() {
  const sockets = new Set<Socket>();
  const bodies: Record<string, unknown>[] = [];
  let hook: (() => void) | undefined;
  const server: Server = createServer((req) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      hook?.();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    bodies: () => bodies,
    onRequest: (fn: () => void) => {
      hook = fn;
    },
  };
}
