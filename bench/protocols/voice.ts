// The voice issue's benchmark: how much agentd adds between a transcription provider's final
// segment and the agent's model request, end of speech to the agent's first token with a
// provider and a model of fixed latency, over many utterances of one run; and the offline
// engine's real-time factor on this machine.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocket, WebSocketServer } from 'ws';
import { createModel } from '../../src/index.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { openaiRealtime } from '../../src/voice/openai-realtime.ts';
import { pocketsphinxBatch } from '../../src/voice/pocketsphinx.ts';
import { runVoiceSession, type UtteranceReport } from '../../src/voice/voice-session.ts';
import { median, quantile } from '../stats.ts';

export interface VoiceResults {
  utterances: number;
  /** The fake provider's final transcript comes this long after the end of speech. */
  transcriptionLatencyMs: number;
  /** The fake model's first token comes this long after its request arrived. */
  modelLatencyMs: number;
  /** Final transcript received to the model request durable in the run log: agentd's part. */
  toRequestMs: { p50: number; p95: number; max: number };
  /** End of speech to the agent's first token, against the floor the two latencies set. */
  firstTokenMs: { p50: number; p95: number };
  floorMs: number;
  offline: { audioSeconds: number; runs: number; realTimeFactor: number } | { skipped: string };
}

/** A chat-completions server answering every request with one short streamed text, after `latencyMs`. */
async function fixedModel(
  latencyMs: number,
): Promise<{ baseUrl: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (delta: object, finish: string | null = null) =>
          `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.write(chunk({ role: 'assistant', content: 'Noted.' }));
        res.write(chunk({}, 'stop'));
        res.end(
          `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [], usage: { prompt_tokens: 10, completion_tokens: 2, total_tokens: 12 } })}\n\ndata: [DONE]\n\n`,
        );
      }, latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * An OpenAI realtime transcription server the benchmark drives: `utter(i)` sends utterance
 * i's events (speech started and stopped, then the transcript `latencyMs` later).
 */
async function drivenRealtime(latencyMs: number): Promise<{
  baseUrl: string;
  ready: Promise<void>;
  utter: (i: number) => void;
  stoppedAt: Map<number, number>;
  close: () => Promise<void>;
}> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  let socket: WebSocket | undefined;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const stoppedAt = new Map<number, number>();
  const send = (event: object) =>
    socket?.readyState === WebSocket.OPEN && socket.send(JSON.stringify(event));
  wss.on('connection', (ws) => {
    socket = ws;
    send({ type: 'session.created', session: { type: 'transcription' } });
    ws.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as { type: string; session?: unknown };
      if (message.type === 'session.update') {
        send({ type: 'session.updated', session: message.session });
        markReady();
      } else if (message.type === 'input_audio_buffer.commit') {
        send({
          type: 'error',
          error: { code: 'input_audio_buffer_commit_empty', message: 'buffer too small' },
        });
      }
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  return {
    baseUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}/v1`,
    ready,
    stoppedAt,
    utter: (i) => {
      const id = `item_${i}`;
      send({ type: 'input_audio_buffer.speech_started', audio_start_ms: i * 1000, item_id: id });
      send({
        type: 'input_audio_buffer.speech_stopped',
        audio_end_ms: i * 1000 + 800,
        item_id: id,
      });
      stoppedAt.set(i, Date.now());
      setTimeout(() => {
        send({ type: 'input_audio_buffer.committed', item_id: id, previous_item_id: null });
        send({
          type: 'conversation.item.input_audio_transcription.completed',
          item_id: id,
          content_index: 0,
          transcript: `note number ${i}`,
        });
      }, latencyMs);
    },
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

export async function runVoiceBench(options: {
  utterances: number;
  tmpDir: string;
  log: (line: string) => void;
  transcriptionLatencyMs?: number;
  modelLatencyMs?: number;
}): Promise<VoiceResults> {
  const transcriptionLatencyMs = options.transcriptionLatencyMs ?? 150;
  const modelLatencyMs = options.modelLatencyMs ?? 100;
  const model = await fixedModel(modelLatencyMs);
  const realtime = await drivenRealtime(transcriptionLatencyMs);
  const store = new SqliteStore({ path: join(options.tmpDir, 'voice-bench.db') });
  const reports: UtteranceReport[] = [];
  let finished: () => void = () => {};
  const allDone = new Promise<void>((resolve) => {
    finished = resolve;
  });
  // The microphone stays open (one chunk of silence) until the last utterance is answered.
  async function* microphone(): AsyncIterable<Int16Array> {
    yield new Int16Array(2400);
    await allDone;
  }
  try {
    const session = runVoiceSession({
      store,
      agent: {
        name: 'voice-bench',
        instructions: 'Acknowledge each note.',
        model: await createModel({
          provider: 'openai-compatible',
          id: 'bench-model',
          baseUrl: model.baseUrl,
        }),
        tools: [],
        limits: { maxTurns: options.utterances + 10 },
      },
      transcriber: openaiRealtime({ baseUrl: realtime.baseUrl, model: 'gpt-4o-transcribe' }),
      audio: microphone(),
      // The end of utterance i's speech was heard when the server said it stopped.
      heardAt: (audioMs) => realtime.stoppedAt.get(Math.floor(audioMs / 1000)) ?? Date.now(),
      bargeIn: false,
      onUtterance: (report) => {
        reports.push(report);
        if (reports.length < options.utterances) realtime.utter(reports.length);
        else finished();
      },
    });
    await realtime.ready;
    realtime.utter(0);
    await session;
  } finally {
    await store.close();
    await realtime.close();
    await model.close();
  }
  const toRequest = reports.map((r) => r.toRequestMs ?? Number.NaN);
  const firstToken = reports.map((r) => r.firstTokenMs ?? Number.NaN);
  const results: VoiceResults = {
    utterances: reports.length,
    transcriptionLatencyMs,
    modelLatencyMs,
    toRequestMs: {
      p50: median(toRequest),
      p95: quantile(toRequest, 0.95),
      max: Math.max(...toRequest),
    },
    firstTokenMs: { p50: median(firstToken), p95: quantile(firstToken, 0.95) },
    floorMs: transcriptionLatencyMs + modelLatencyMs,
    offline: await offlineRtf(options.log),
  };
  options.log(
    `voice: final → model request p50 ${results.toRequestMs.p50.toFixed(1)} ms; end of speech → first token p50 ${results.firstTokenMs.p50.toFixed(0)} ms (floor ${results.floorMs} ms)`,
  );
  return results;
}

/** pocketsphinx on examples/voice/question.wav: decoding time over audio time, median of 3. */
async function offlineRtf(log: (line: string) => void): Promise<VoiceResults['offline']> {
  if (spawnSync('pocketsphinx_continuous', ['-h'], { stdio: 'ignore' }).error) {
    return {
      skipped: 'pocketsphinx is not installed (apt-get install pocketsphinx pocketsphinx-en-us)',
    };
  }
  const bytes = await readFile(new URL('../../examples/voice/question.wav', import.meta.url));
  const audioSeconds = (bytes.length - 44) / 32_000;
  const engine = pocketsphinxBatch();
  const factors: number[] = [];
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    await engine.transcribe({ bytes, name: 'question.wav' }, {});
    factors.push((performance.now() - started) / 1000 / audioSeconds);
  }
  log(
    `voice: pocketsphinx real-time factor ${median(factors).toFixed(2)} on ${audioSeconds.toFixed(1)} s of audio`,
  );
  return { audioSeconds, runs: factors.length, realTimeFactor: median(factors) };
}
