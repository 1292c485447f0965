// Mistral Voxtral Realtime: `wss://.../v1/audio/transcriptions/realtime?model=...`. agentd's
// VAD cuts the speech into utterances; each is streamed live on its own session
// (session.update, input_audio.append..., input_audio.end) and ends with transcription.done.
// A dropped socket is opened again and the utterance sent again. Wire format: docs/voice.md.
import { AgentdError } from '../core/errors.ts';
import {
  AsyncQueue,
  base64Pcm,
  bearerHeaders,
  countReconnect,
  openSocket,
  type ProviderSocket,
  pumpAudio,
  type RealtimeInput,
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
  const queue = new AsyncQueue<RealtimeInput>();
  const session = new UtteranceSessions(options, queue);
  const abort = () => session.closeAll();
  signal?.addEventListener('abort', abort, { once: true });
  pumpAudio(audio, queue);
  try {
    for (;;) {
      if (signal?.aborted) return;
      if (session.finished) return;
      const input = await queue.next();
      if (input.kind === 'audio-error') throw input.error;
      if (input.kind === 'audio' || input.kind === 'audio-end') {
        yield* session.audio(input.kind === 'audio' ? input.samples : undefined);
        continue;
      }
      const utterance = session.open.get(input.socket);
      if (!utterance) continue;
      if (input.kind === 'closed') yield* session.closed(utterance, input);
      else yield* session.message(utterance, input.socket, input.data);
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    session.closeAll();
  }
}

/** One stream's utterances, each on a session of its own, cut by agentd's VAD. */
class UtteranceSessions {
  /** Utterances whose audio is (being) sent and whose transcript has not come yet, by socket. */
  readonly open = new Map<number, Open>();
  readonly #options: MistralRealtimeOptions;
  readonly #queue: AsyncQueue<RealtimeInput>;
  readonly #url: string;
  readonly #maxReconnects: number;
  readonly #vad: EnergyVad;
  readonly #preroll: Int16Array[] = [];
  #prerollSamples = 0;
  #sentMs = 0;
  #inputDone = false;
  #reconnects = 0;
  #index = 0;
  #current: Open | undefined;

  constructor(options: MistralRealtimeOptions, queue: AsyncQueue<RealtimeInput>) {
    this.#options = options;
    this.#queue = queue;
    this.#url = `${websocketBase(options.baseUrl)}/audio/transcriptions/realtime?model=${encodeURIComponent(options.model)}`;
    this.#maxReconnects = options.maxReconnects ?? 3;
    this.#vad = new EnergyVad({ sampleRate: rate, silenceMs: options.silenceMs ?? 500 });
  }

  /** All audio was sent and every utterance has its transcript. */
  get finished(): boolean {
    return this.#inputDone && this.open.size === 0;
  }

  closeAll(): void {
    for (const u of this.open.values()) u.socket.close();
  }

  async #connect(): Promise<ProviderSocket> {
    const options = this.#options;
    const headers = bearerHeaders(options.apiKey);
    const socket = await openSocket(this.#url, headers, this.#queue, 'Mistral', options.keyName);
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
  }

  #send(utterance: Open, samples: Int16Array): void {
    utterance.audio.push(samples);
    utterance.socket.send({ type: 'input_audio.append', audio: base64Pcm(samples) });
  }

  /** A chunk of audio (`undefined`: the audio ended): through the VAD, to the utterance or the preroll. */
  async *audio(chunk: Int16Array | undefined): AsyncIterable<StreamEvent> {
    const samples = chunk ?? new Int16Array(0);
    const events = chunk ? this.#vad.push(samples) : this.#vad.flush();
    if (!chunk) this.#inputDone = true;
    const chunkStart = this.#sentMs;
    this.#sentMs += (samples.length * 1000) / rate;
    for (const event of events) {
      if (event.type === 'start' && !this.#current) {
        const socket = await this.#connect();
        const current: Open = {
          socket,
          startMs: Math.max(0, chunkStart - (this.#prerollSamples * 1000) / rate),
          audio: [],
          partial: '',
          segments: [],
        };
        this.#current = current;
        this.open.set(socket.id, current);
        for (const piece of this.#preroll) this.#send(current, piece);
        this.#preroll.length = 0;
        this.#prerollSamples = 0;
        yield { type: 'speech-started', atMs: event.atMs };
      } else if (event.type === 'end') {
        if (this.#current && samples.length) this.#send(this.#current, samples);
        yield* this.#endUtterance(event.atMs);
      }
    }
    const ended = events.some((e) => e.type === 'end');
    if (this.#current && samples.length && !ended) this.#send(this.#current, samples);
    else if (!this.#current && samples.length && !ended) this.#keepPreroll(samples);
  }

  /** Audio before speech starts, up to `prerollMs` of it, sent with the utterance it leads into. */
  #keepPreroll(samples: Int16Array): void {
    const preroll = this.#preroll;
    preroll.push(samples);
    this.#prerollSamples += samples.length;
    while (
      preroll.length > 1 &&
      this.#prerollSamples - preroll[0]!.length > (prerollMs * rate) / 1000
    ) {
      this.#prerollSamples -= preroll.shift()!.length;
    }
  }

  *#endUtterance(atMs: number): Iterable<StreamEvent> {
    const current = this.#current;
    if (!current) return;
    current.endMs = atMs;
    current.socket.send({ type: 'input_audio.end' });
    this.#current = undefined;
    yield { type: 'speech-stopped', atMs };
  }

  /** An utterance's socket closed: by us, or by the provider (then the utterance is sent again). */
  async *closed(
    utterance: Open,
    closed: Extract<SocketInput, { kind: 'closed' }>,
  ): AsyncIterable<StreamEvent> {
    this.open.delete(closed.socket);
    if (utterance.socket.closedByUs) return;
    this.#reconnects = countReconnect('Mistral', closed, this.#reconnects, this.#maxReconnects);
    const socket = await this.#connect();
    const again: Open = { ...utterance, socket, audio: [], partial: '', segments: [] };
    this.open.set(socket.id, again);
    if (this.#current === utterance) this.#current = again;
    yield {
      type: 'reconnected',
      attempt: this.#reconnects,
      fromMs: utterance.startMs,
      reason: `socket closed (${closed.code})`,
    };
    for (const piece of utterance.audio) this.#send(again, piece);
    if (again.endMs !== undefined) socket.send({ type: 'input_audio.end' });
  }

  *message(
    utterance: Open,
    socketId: number,
    data: Record<string, unknown>,
  ): Iterable<StreamEvent> {
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
        this.open.delete(socketId);
        utterance.socket.close();
        const text = String(data.text ?? utterance.partial).trim();
        if (!text) break;
        const language = typeof data.language === 'string' ? data.language : utterance.language;
        const endMs = utterance.endMs ?? this.#sentMs;
        const segments = utterance.segments.length
          ? utterance.segments
          : [{ text, start: utterance.startMs / 1000, end: endMs / 1000 }];
        yield {
          type: 'final',
          utterance: {
            index: this.#index++,
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
}
