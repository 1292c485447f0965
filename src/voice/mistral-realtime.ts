// Mistral Voxtral Realtime: `wss://.../v1/audio/transcriptions/realtime?model=...`. agentd's
// VAD cuts the speech into utterances; each is streamed live on its own session
// (session.update, input_audio.append..., input_audio.end) and ends with transcription.done.
// A dropped socket is opened again and the utterance sent again. Wire format: docs/voice.md.
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
import type { Segment, StreamEvent, StreamingTranscriber } from './transcript.ts';
import { EnergyVad } from './vad.ts';

export interface MistralRealtimeOptions {
  baseUrl: string;
  apiKey?: string;
  keyName?: string;
  model: string;
  /** Target delay of the streaming model (Voxtral Realtime tunes it below 200 ms). */
  targetDelayMs?: number;
  maxReconnects?: number;
  silenceMs?: number;
}

const rate = 16_000;
const prerollMs = 300;

type Input =
  | SocketInput
  | { kind: 'audio'; samples: Int16Array }
  | { kind: 'audio-end' }
  | { kind: 'audio-error'; error: unknown };

export function mistralRealtime(options: MistralRealtimeOptions): StreamingTranscriber {
  return {
    provider: 'mistral',
    model: options.model,
    sampleRate: rate,
    stream: (audio, { signal }) => stream(options, audio, signal),
  };
}

interface Open {
  socket: ProviderSocket;
  startMs: number;
  endMs?: number;
  /** The utterance's audio so far, to send again after a drop. */
  audio: Int16Array[];
  partial: string;
  language?: string;
  segments: Segment[];
}

async function* stream(
  options: MistralRealtimeOptions,
  audio: AsyncIterable<Int16Array>,
  signal: AbortSignal | undefined,
): AsyncIterable<StreamEvent> {
  const queue = new AsyncQueue<Input>();
  const url = `${websocketBase(options.baseUrl)}/audio/transcriptions/realtime?model=${encodeURIComponent(options.model)}`;
  const headers: Record<string, string> = options.apiKey
    ? { authorization: `Bearer ${options.apiKey}` }
    : {};
  const maxReconnects = options.maxReconnects ?? 3;
  const vad = new EnergyVad({ sampleRate: rate, silenceMs: options.silenceMs ?? 500 });
  const preroll: Int16Array[] = [];
  let prerollSamples = 0;
  let sentMs = 0;
  let inputDone = false;
  let reconnects = 0;
  let index = 0;
  // Utterances whose audio is (being) sent and whose transcript has not come yet.
  const open = new Map<number, Open>();
  let current: Open | undefined;

  const connect = async (): Promise<ProviderSocket> => {
    const socket = await openSocket(url, headers, queue, 'Mistral', options.keyName);
    socket.send({
      type: 'session.update',
      session: {
        audio_format: { encoding: 'pcm_s16le', sample_rate: rate },
        ...(options.targetDelayMs !== undefined
          ? { target_streaming_delay_ms: options.targetDelayMs }
          : {}),
      },
    });
    return socket;
  };
  const send = (utterance: Open, samples: Int16Array) => {
    utterance.audio.push(samples);
    utterance.socket.send({ type: 'input_audio.append', audio: base64Pcm(samples) });
  };
  const abort = () => {
    for (const u of open.values()) u.socket.close();
  };
  signal?.addEventListener('abort', abort, { once: true });
  (async () => {
    try {
      for await (const samples of audio) queue.push({ kind: 'audio', samples });
      queue.push({ kind: 'audio-end' });
    } catch (error) {
      queue.push({ kind: 'audio-error', error });
    }
  })();
  const endUtterance = function* (atMs: number): Generator<StreamEvent> {
    if (!current) return;
    current.endMs = atMs;
    current.socket.send({ type: 'input_audio.end' });
    current = undefined;
    yield { type: 'speech-stopped', atMs };
  };
  try {
    for (;;) {
      if (signal?.aborted) return;
      if (inputDone && open.size === 0) return;
      const input = await queue.next();
      if (input.kind === 'audio-error') throw input.error;
      if (input.kind === 'audio' || input.kind === 'audio-end') {
        const samples = input.kind === 'audio' ? input.samples : new Int16Array(0);
        const events = input.kind === 'audio' ? vad.push(samples) : vad.flush();
        if (input.kind === 'audio-end') inputDone = true;
        const chunkStart = sentMs;
        sentMs += (samples.length * 1000) / rate;
        for (const event of events) {
          if (event.type === 'start' && !current) {
            const socket = await connect();
            current = {
              socket,
              startMs: Math.max(0, chunkStart - (prerollSamples * 1000) / rate),
              audio: [],
              partial: '',
              segments: [],
            };
            open.set(socket.id, current);
            for (const chunk of preroll) send(current, chunk);
            preroll.length = 0;
            prerollSamples = 0;
            yield { type: 'speech-started', atMs: event.atMs };
          } else if (event.type === 'end') {
            if (current && samples.length) send(current, samples);
            yield* endUtterance(event.atMs);
          }
        }
        if (current && samples.length && !events.some((e) => e.type === 'end'))
          send(current, samples);
        else if (!current && samples.length && !events.some((e) => e.type === 'end')) {
          preroll.push(samples);
          prerollSamples += samples.length;
          while (
            preroll.length > 1 &&
            prerollSamples - preroll[0]!.length > (prerollMs * rate) / 1000
          ) {
            prerollSamples -= preroll.shift()!.length;
          }
        }
        continue;
      }
      const utterance = open.get(input.socket);
      if (!utterance) continue;
      if (input.kind === 'closed') {
        open.delete(input.socket);
        if (utterance.socket.closedByUs) continue;
        if (reconnects >= maxReconnects) {
          throw new VoiceProviderError(
            `Mistral closed the realtime connection (${input.code}${input.reason ? `: ${input.reason}` : ''}) ${reconnects + 1} times; gave up`,
            { retryable: false },
          );
        }
        reconnects++;
        const socket = await connect();
        const again: Open = { ...utterance, socket, audio: [], partial: '', segments: [] };
        open.set(socket.id, again);
        if (current === utterance) current = again;
        yield {
          type: 'reconnected',
          attempt: reconnects,
          fromMs: utterance.startMs,
          reason: `socket closed (${input.code})`,
        };
        for (const chunk of utterance.audio) send(again, chunk);
        if (again.endMs !== undefined) socket.send({ type: 'input_audio.end' });
        continue;
      }
      const data = input.data;
      switch (data.type) {
        case 'transcription.language':
          if (typeof data.audio_language === 'string') utterance.language = data.audio_language;
          break;
        case 'transcription.text.delta':
          utterance.partial += String(data.text ?? '');
          yield { type: 'partial', text: utterance.partial };
          break;
        case 'transcription.segment':
          if (
            typeof data.text === 'string' &&
            typeof data.start === 'number' &&
            typeof data.end === 'number'
          ) {
            utterance.segments.push({
              text: data.text.trim(),
              start: utterance.startMs / 1000 + data.start,
              end: utterance.startMs / 1000 + data.end,
            });
          }
          break;
        case 'transcription.done': {
          open.delete(input.socket);
          utterance.socket.close();
          const text = String(data.text ?? utterance.partial).trim();
          if (!text) break;
          const language = typeof data.language === 'string' ? data.language : utterance.language;
          const endMs = utterance.endMs ?? sentMs;
          const segments = utterance.segments.length
            ? utterance.segments
            : [{ text, start: utterance.startMs / 1000, end: endMs / 1000 }];
          yield {
            type: 'final',
            utterance: {
              index: index++,
              text,
              ...(language ? { language } : {}),
              segments,
              startMs: utterance.startMs,
              endMs,
            },
          };
          break;
        }
        case 'error':
          throw new AgentdError(
            'voice_provider_failed',
            `Mistral realtime error: ${realtimeErrorMessage(data)}`,
          );
      }
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    for (const u of open.values()) u.socket.close();
  }
}
