// OpenAI realtime transcription: one WebSocket session (`/v1/realtime?intent=transcription`),
// 24 kHz PCM appended as it comes, the server's VAD finding each end of speech and a
// transcript per committed item. A dropped socket is opened again and the audio of the
// utterances not yet transcribed is sent again. The wire format is in docs/voice.md.
import { AgentdError } from '../core/errors.ts';
import { VoiceProviderError } from './provider-error.ts';
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
  const queue = new AsyncQueue<RealtimeInput>();
  const session = new TranscriptionSession(options, language, queue);
  await session.connect();
  const onAbort = () => session.socket.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  pumpAudio(audio, queue);
  try {
    for (;;) {
      if (signal?.aborted) return;
      if (session.finished) return;
      const input = await queue.next();
      if (input.kind === 'audio') {
        session.append(input.samples);
        continue;
      }
      if (input.kind === 'audio-end') {
        session.endInput();
        continue;
      }
      if (input.kind === 'audio-error') throw input.error;
      if (input.socket !== session.socket.id) continue;
      if (input.kind === 'closed') {
        if (session.socket.closedByUs) return;
        yield* session.reconnect(input);
        continue;
      }
      yield* session.message(input.data);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    session.socket.close();
  }
}

/** One stream's transcription: its socket (opened again after a drop) and the utterances under way. */
class TranscriptionSession {
  socket!: ProviderSocket;
  readonly #options: OpenAIRealtimeOptions;
  readonly #language: string | undefined;
  readonly #queue: AsyncQueue<RealtimeInput>;
  readonly #url: string;
  readonly #maxReconnects: number;
  /** Audio sent since the last transcribed utterance ended, kept to send again after a drop. */
  #kept: Array<{ atMs: number; samples: Int16Array }> = [];
  #sentMs = 0;
  /** Stream time where the current session's audio starts (its audio_*_ms count from there). */
  #sessionStartMs = 0;
  #inputDone = false;
  #awaitingCommit = false;
  #reconnects = 0;
  #index = 0;
  #partial = '';
  readonly #items = new Map<string, { startMs?: number; endMs?: number }>();

  constructor(
    options: OpenAIRealtimeOptions,
    language: string | undefined,
    queue: AsyncQueue<RealtimeInput>,
  ) {
    this.#options = options;
    this.#language = language;
    this.#queue = queue;
    this.#url = `${websocketBase(options.baseUrl)}/realtime?intent=transcription`;
    this.#maxReconnects = options.maxReconnects ?? 3;
  }

  /** All audio was sent and every utterance has its transcript. */
  get finished(): boolean {
    return this.#inputDone && !this.#awaitingCommit && this.#items.size === 0;
  }

  async connect(): Promise<void> {
    const options = this.#options;
    const language = this.#language;
    const headers = bearerHeaders(options.apiKey);
    const socket = await openSocket(this.#url, headers, this.#queue, 'OpenAI', options.keyName);
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
    this.socket = socket;
  }

  append(samples: Int16Array): void {
    const atMs = this.#sentMs;
    this.#sentMs += (samples.length * 1000) / rate;
    this.#kept.push({ atMs, samples });
    this.socket.send({ type: 'input_audio_buffer.append', audio: base64Pcm(samples) });
  }

  endInput(): void {
    this.#inputDone = true;
    this.#commitTail();
  }

  #commitTail(): void {
    this.#awaitingCommit = true;
    this.socket.send({ type: 'input_audio_buffer.commit' });
  }

  /** The provider closed the socket: open another and send the audio not yet transcribed. */
  async *reconnect(closed: Extract<SocketInput, { kind: 'closed' }>): AsyncIterable<StreamEvent> {
    this.#reconnects = countReconnect('OpenAI', closed, this.#reconnects, this.#maxReconnects);
    const fromMs = this.#kept[0]?.atMs ?? this.#sentMs;
    await this.connect();
    this.#sessionStartMs = fromMs;
    this.#items.clear();
    this.#partial = '';
    yield {
      type: 'reconnected',
      attempt: this.#reconnects,
      fromMs,
      reason: `socket closed (${closed.code})`,
    };
    for (const chunk of this.#kept)
      this.socket.send({ type: 'input_audio_buffer.append', audio: base64Pcm(chunk.samples) });
    if (this.#inputDone) this.#commitTail();
  }

  *message(data: Record<string, unknown>): Iterable<StreamEvent> {
    const itemId = typeof data.item_id === 'string' ? data.item_id : '';
    const items = this.#items;
    switch (data.type) {
      case 'input_audio_buffer.speech_started': {
        const startMs = this.#sessionStartMs + Number(data.audio_start_ms ?? 0);
        items.set(itemId, { startMs });
        yield { type: 'speech-started', atMs: startMs };
        break;
      }
      case 'input_audio_buffer.speech_stopped': {
        const endMs = this.#sessionStartMs + Number(data.audio_end_ms ?? 0);
        items.set(itemId, { ...items.get(itemId), endMs });
        yield { type: 'speech-stopped', atMs: endMs };
        break;
      }
      case 'input_audio_buffer.committed': {
        // The server's VAD commits after speech_stopped; an item committed without one
        // is the answer to our commit of the tail.
        const item = items.get(itemId);
        if (item?.endMs === undefined) {
          this.#awaitingCommit = false;
          items.set(itemId, { ...item, endMs: this.#sentMs });
        }
        break;
      }
      case 'conversation.item.input_audio_transcription.delta':
        this.#partial += String(data.delta ?? '');
        yield { type: 'partial', text: this.#partial };
        break;
      case 'conversation.item.input_audio_transcription.completed':
        yield* this.#completed(itemId, data);
        break;
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
          this.#awaitingCommit = false;
          break;
        }
        throw new AgentdError(
          'voice_provider_failed',
          `OpenAI realtime error: ${realtimeErrorMessage(data)}`,
        );
      }
    }
  }

  /** An item's transcript: its utterance, and the kept audio up to its end let go. */
  *#completed(itemId: string, data: Record<string, unknown>): Iterable<StreamEvent> {
    const language = this.#language;
    const item = this.#items.get(itemId) ?? {};
    this.#items.delete(itemId);
    this.#partial = '';
    const text = String(data.transcript ?? '').trim();
    const endMs = item.endMs ?? this.#sentMs;
    const startMs = item.startMs ?? endMs;
    this.#kept = this.#kept.filter(
      (chunk) => chunk.atMs + (chunk.samples.length * 1000) / rate > endMs,
    );
    if (!text) return;
    const confidence = meanProbability(data.logprobs);
    yield {
      type: 'final',
      utterance: {
        index: this.#index++,
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
