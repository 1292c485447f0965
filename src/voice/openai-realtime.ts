// OpenAI realtime transcription: one WebSocket session (`/v1/realtime?intent=transcription`),
// 24 kHz PCM appended as it comes, the server's VAD finding each end of speech and a
// transcript per committed item. A dropped socket is opened again and the audio of the
// utterances not yet transcribed is sent again. The wire format is in docs/voice.md.
import { AgentdError } from '../core/errors.ts';
import { VoiceProviderError } from './provider-error.ts';
import {
  AsyncQueue,
  base64Pcm,
  openSocket,
  type ProviderSocket,
  realtimeErrorMessage,
  type SocketInput,
  websocketBase,
} from './realtime-socket.ts';
import type { StreamEvent, StreamingTranscriber } from './transcript.ts';

export interface OpenAIRealtimeOptions {
  baseUrl: string;
  apiKey?: string;
  keyName?: string;
  model: string;
  /** Times the socket may drop and be opened again in one stream (default 3). */
  maxReconnects?: number;
  /** Silence that ends an utterance, for the server's VAD (default 500 ms). */
  silenceMs?: number;
}

const rate = 24_000;

type Input =
  | SocketInput
  | { kind: 'audio'; samples: Int16Array }
  | { kind: 'audio-end' }
  | { kind: 'audio-error'; error: unknown };

export function openaiRealtime(options: OpenAIRealtimeOptions): StreamingTranscriber {
  return {
    provider: 'openai',
    model: options.model,
    sampleRate: rate,
    stream: (audio, { language, signal }) => stream(options, audio, language, signal),
  };
}

async function* stream(
  options: OpenAIRealtimeOptions,
  audio: AsyncIterable<Int16Array>,
  language: string | undefined,
  signal: AbortSignal | undefined,
): AsyncIterable<StreamEvent> {
  const queue = new AsyncQueue<Input>();
  const url = `${websocketBase(options.baseUrl)}/realtime?intent=transcription`;
  const headers: Record<string, string> = options.apiKey
    ? { authorization: `Bearer ${options.apiKey}` }
    : {};
  const maxReconnects = options.maxReconnects ?? 3;
  // Audio sent since the last transcribed utterance ended, kept to send again after a drop.
  let kept: Array<{ atMs: number; samples: Int16Array }> = [];
  let sentMs = 0;
  // Stream time where the current session's audio starts (its audio_*_ms count from there).
  let sessionStartMs = 0;
  let inputDone = false;
  let awaitingCommit = false;
  let reconnects = 0;
  let index = 0;
  let partial = '';
  const items = new Map<string, { startMs?: number; endMs?: number }>();

  const connect = async (): Promise<ProviderSocket> => {
    const socket = await openSocket(url, headers, queue, 'OpenAI', options.keyName);
    socket.send({
      type: 'session.update',
      session: {
        type: 'transcription',
        audio: {
          input: {
            format: { type: 'audio/pcm', rate },
            transcription: { model: options.model, ...(language ? { language } : {}) },
            turn_detection: {
              type: 'server_vad',
              threshold: 0.5,
              prefix_padding_ms: 300,
              silence_duration_ms: options.silenceMs ?? 500,
            },
          },
        },
      },
    });
    return socket;
  };
  let socket = await connect();
  const onAbort = () => socket.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  (async () => {
    try {
      for await (const samples of audio) queue.push({ kind: 'audio', samples });
      queue.push({ kind: 'audio-end' });
    } catch (error) {
      queue.push({ kind: 'audio-error', error });
    }
  })();
  const commitTail = () => {
    awaitingCommit = true;
    socket.send({ type: 'input_audio_buffer.commit' });
  };
  try {
    for (;;) {
      if (signal?.aborted) return;
      if (inputDone && !awaitingCommit && items.size === 0) return;
      const input = await queue.next();
      if (input.kind === 'audio') {
        const atMs = sentMs;
        sentMs += (input.samples.length * 1000) / rate;
        kept.push({ atMs, samples: input.samples });
        socket.send({ type: 'input_audio_buffer.append', audio: base64Pcm(input.samples) });
        continue;
      }
      if (input.kind === 'audio-end') {
        inputDone = true;
        commitTail();
        continue;
      }
      if (input.kind === 'audio-error') throw input.error;
      if (input.socket !== socket.id) continue;
      if (input.kind === 'closed') {
        if (socket.closedByUs) return;
        if (reconnects >= maxReconnects) {
          throw new VoiceProviderError(
            `OpenAI closed the realtime connection (${input.code}${input.reason ? `: ${input.reason}` : ''}) ${reconnects + 1} times; gave up`,
            { retryable: false },
          );
        }
        reconnects++;
        const fromMs = kept[0]?.atMs ?? sentMs;
        socket = await connect();
        sessionStartMs = fromMs;
        items.clear();
        partial = '';
        yield {
          type: 'reconnected',
          attempt: reconnects,
          fromMs,
          reason: `socket closed (${input.code})`,
        };
        for (const chunk of kept)
          socket.send({ type: 'input_audio_buffer.append', audio: base64Pcm(chunk.samples) });
        if (inputDone) commitTail();
        continue;
      }
      const data = input.data;
      const itemId = typeof data.item_id === 'string' ? data.item_id : '';
      switch (data.type) {
        case 'input_audio_buffer.speech_started': {
          const startMs = sessionStartMs + Number(data.audio_start_ms ?? 0);
          items.set(itemId, { startMs });
          yield { type: 'speech-started', atMs: startMs };
          break;
        }
        case 'input_audio_buffer.speech_stopped': {
          const endMs = sessionStartMs + Number(data.audio_end_ms ?? 0);
          items.set(itemId, { ...items.get(itemId), endMs });
          yield { type: 'speech-stopped', atMs: endMs };
          break;
        }
        case 'input_audio_buffer.committed': {
          // The server's VAD commits after speech_stopped; an item committed without one
          // is the answer to our commit of the tail.
          const item = items.get(itemId);
          if (item?.endMs === undefined) {
            awaitingCommit = false;
            items.set(itemId, { ...item, endMs: sentMs });
          }
          break;
        }
        case 'conversation.item.input_audio_transcription.delta':
          partial += String(data.delta ?? '');
          yield { type: 'partial', text: partial };
          break;
        case 'conversation.item.input_audio_transcription.completed': {
          const item = items.get(itemId) ?? {};
          items.delete(itemId);
          partial = '';
          const text = String(data.transcript ?? '').trim();
          const endMs = item.endMs ?? sentMs;
          const startMs = item.startMs ?? endMs;
          kept = kept.filter((chunk) => chunk.atMs + (chunk.samples.length * 1000) / rate > endMs);
          if (!text) break;
          const confidence = meanProbability(data.logprobs);
          yield {
            type: 'final',
            utterance: {
              index: index++,
              text,
              ...(language ? { language } : {}),
              segments: [
                {
                  text,
                  start: startMs / 1000,
                  end: endMs / 1000,
                  ...(confidence !== undefined ? { confidence } : {}),
                },
              ],
              startMs,
              endMs,
            },
          };
          break;
        }
        case 'conversation.item.input_audio_transcription.failed':
          items.delete(itemId);
          throw new VoiceProviderError(
            `OpenAI could not transcribe an utterance: ${realtimeErrorMessage(data)}`,
            {
              retryable: false,
            },
          );
        case 'error': {
          const code = (data.error as { code?: unknown } | undefined)?.code;
          if (code === 'input_audio_buffer_commit_empty') {
            awaitingCommit = false;
            break;
          }
          throw new AgentdError(
            'voice_provider_failed',
            `OpenAI realtime error: ${realtimeErrorMessage(data)}`,
          );
        }
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    socket.close();
  }
}

/** exp of the mean token log-probability, when the provider sent them. */
function meanProbability(logprobs: unknown): number | undefined {
  if (!Array.isArray(logprobs) || logprobs.length === 0) return undefined;
  const values = logprobs
    .map((l) => (l as { logprob?: unknown }).logprob)
    .filter((v): v is number => typeof v === 'number');
  if (values.length === 0) return undefined;
  return Math.exp(values.reduce((a, b) => a + b, 0) / values.length);
}
