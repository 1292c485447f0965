import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../../src/models/providers.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { openaiRealtime } from '../../src/voice/openai-realtime.ts';
import { runVoiceSession } from '../../src/voice/voice-session.ts';
import { doneFrame, sseFrame } from '../support/fake-provider/sse.ts';
import { chunked, FakeVoiceServer, toneUtterances } from '../support/fake-voice.ts';

/**
 * An OpenAI-compatible Chat Completions server whose first answer streams one word and then
 * waits until the client hangs up (an answer still going when the person speaks again).
 */
class HoldingChatServer {
  readonly requests: Array<{ messages: Array<{ role: string; content: unknown }> }> = [];
  hungUp = false;
  #firstWordSent: () => void = () => {};
  readonly firstWordSent = new Promise<void>((resolve) => {
    this.#firstWordSent = resolve;
  });
  readonly #server = createServer((req, res) => void this.#handle(req, res));
  baseUrl = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
    this.baseUrl = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += chunk;
    const request = JSON.parse(body) as { messages: Array<{ role: string; content: unknown }> };
    this.requests.push(request);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      sseFrame({
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk',
        created: 0,
        model: 'm',
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
    if (this.requests.length === 1) {
      res.write(chunk({ role: 'assistant', content: 'Let me think about that' }));
      res.on('close', () => {
        this.hungUp = true;
      });
      this.#firstWordSent();
      return;
    }
    const last = request.messages.at(-1);
    res.write(chunk({ role: 'assistant', content: `Answering: ${String(last?.content)}` }));
    res.write(chunk({}, 'stop'));
    res.write(
      sseFrame({
        id: 'chatcmpl-2',
        object: 'chat.completion.chunk',
        created: 0,
        model: 'm',
        choices: [],
        usage: { prompt_tokens: 20, completion_tokens: 4, total_tokens: 24 },
      }),
    );
    res.end(doneFrame);
  }
}

let voice: FakeVoiceServer;
let chat: HoldingChatServer;
beforeAll(async () => {
  voice = await FakeVoiceServer.start();
  chat = new HoldingChatServer();
  await chat.start();
});
afterAll(async () => {
  await voice.close();
  await chat.close();
});

describe('barge-in', () => {
  it('speech while the agent answers cancels the answer; the new utterance is the next turn of the run', async () => {
    // The second utterance is heard only once the first answer has begun to stream.
    voice.setRealtime({
      texts: ['tell me a long story', 'actually, stop'],
      gate: (i) => (i === 1 ? chat.firstWordSent : Promise.resolve()),
    });
    const store = new SqliteStore({ path: ':memory:' });
    const model = await createModel({
      provider: 'openai-compatible',
      id: 'local-model',
      baseUrl: chat.baseUrl,
    });
    const transcriber = openaiRealtime({ baseUrl: voice.baseUrl, model: 'gpt-4o-transcribe' });
    try {
      const result = await runVoiceSession({
        store,
        agent: { name: 'talker', instructions: 'Talk.', model, tools: [] },
        transcriber,
        audio: chunked(toneUtterances(24000, 2), 24000),
        heardAt: () => Date.now(),
      });
      expect(result.utterances.map((u) => [u.text, u.interrupted])).toEqual([
        ['tell me a long story', true],
        ['actually, stop', false],
      ]);
      expect(result.utterances[1]!.answer).toBe('Answering: actually, stop');
      // The first answer's request was abandoned, not left streaming.
      expect(chat.hungUp).toBe(true);
      const events = await store.readEvents(result.runId!);
      expect(events.map((e) => e.type)).toEqual([
        'run.started',
        'voice.transcript',
        'model.request',
        'run.finished',
        'run.resumed',
        'voice.transcript',
        'user.message',
        'model.request',
        'model.response',
        'run.finished',
      ]);
      expect(events[3]!.data).toMatchObject({ status: 'cancelled' });
      expect(events.at(-1)!.data).toMatchObject({
        status: 'completed',
        output: 'Answering: actually, stop',
      });
      // The second request carries both utterances as user turns, and no half answer.
      const second = chat.requests[1]!.messages.filter((m) => m.role !== 'system');
      expect(second.map((m) => [m.role, m.content])).toEqual([
        ['user', 'tell me a long story'],
        ['user', 'actually, stop'],
      ]);
    } finally {
      await store.close();
    }
  });
});
