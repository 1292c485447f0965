// Local servers that speak the transcription providers' wire formats (docs/voice.md):
// OpenAI's and Mistral's batch endpoint, OpenAI's realtime transcription WebSocket and
// Mistral's Voxtral Realtime WebSocket. They "recognize" speech by handing out the texts a
// test gives, one per utterance their VAD finds, and can refuse, rate-limit or drop sockets.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { EnergyVad } from '../../src/voice/vad.ts';

export interface BatchRequest {
  path: string;
  authorization: string | undefined;
  fields: Record<string, string>;
  fileBytes: number;
  fileType: string | undefined;
}

export type BatchReply =
  | { kind: 'ok'; body: Record<string, unknown> }
  | {
      kind: 'error';
      status: number;
      body: Record<string, unknown>;
      headers?: Record<string, string>;
    };

export interface RealtimeOptions {
  /** The text of each utterance, in order (across connections). */
  texts: string[];
  /** The key the server accepts (Bearer); others get 401 on the upgrade. */
  key?: string;
  /** Drop the first connection (terminate, no close frame) after this many audio appends. */
  dropAfterAppends?: number;
  /** Utterance i's events wait for this (a test holds an utterance back). */
  gate?: (index: number) => Promise<void>;
}

export interface RealtimeLog {
  /** Every client message, per connection. */
  connections: Array<{ url: string; messages: Array<Record<string, unknown>> }>;
}

export class FakeVoiceServer {
  readonly batchRequests: BatchRequest[] = [];
  readonly realtime: RealtimeLog = { connections: [] };
  readonly #batchReplies: BatchReply[] = [];
  readonly #server: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Set<Socket>();
  #realtimeOptions: RealtimeOptions = { texts: [] };
  #nextText = 0;
  #origin = '';

  private constructor() {
    this.#server = createServer((req, res) => {
      this.#batch(req, res).catch((error: unknown) => {
        res.writeHead(500);
        res.end(String(error));
      });
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket as Socket, head));
  }

  static async start(): Promise<FakeVoiceServer> {
    const fake = new FakeVoiceServer();
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', () => resolve()));
    fake.#origin = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  get baseUrl(): string {
    return `${this.#origin}/v1`;
  }

  enqueueBatch(...replies: BatchReply[]): this {
    this.#batchReplies.push(...replies);
    return this;
  }

  setRealtime(options: RealtimeOptions): this {
    this.#realtimeOptions = options;
    this.#nextText = 0;
    return this;
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #batch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    // Parse the multipart form the way a server would (via the platform's own parser).
    const form = await new Response(body, {
      headers: { 'content-type': req.headers['content-type'] ?? '' },
    }).formData();
    const fields: Record<string, string> = {};
    let fileBytes = 0;
    let fileType: string | undefined;
    for (const [name, value] of form.entries()) {
      if (typeof value === 'string') fields[name] = value;
      else {
        fileBytes = value.size;
        fileType = value.type;
      }
    }
    this.batchRequests.push({
      path: req.url ?? '',
      authorization: req.headers.authorization,
      fields,
      fileBytes,
      fileType,
    });
    const reply = this.#batchReplies.shift() ?? {
      kind: 'error',
      status: 500,
      body: { error: { message: 'no reply queued' } },
    };
    if (reply.kind === 'ok') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    } else {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify(reply.body));
    }
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const options = this.#realtimeOptions;
    if (options.key && req.headers.authorization !== `Bearer ${options.key}`) {
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}',
      );
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      const url = req.url ?? '';
      const record = { url, messages: [] as Array<Record<string, unknown>> };
      this.realtime.connections.push(record);
      if (url.startsWith('/v1/realtime'))
        this.#openai(ws, record, this.realtime.connections.length === 1);
      else if (url.startsWith('/v1/audio/transcriptions/realtime'))
        this.#mistral(ws, record, this.realtime.connections.length === 1, url);
      else ws.close(1008, 'unknown route');
    });
  }

  #takeText(): { index: number; text: string } {
    const index = this.#nextText++;
    return { index, text: this.#realtimeOptions.texts[index] ?? '' };
  }

  /** OpenAI realtime transcription: server VAD over 24 kHz PCM, one item per utterance. */
  #openai(ws: WebSocket, record: RealtimeLog['connections'][number], first: boolean): void {
    const options = this.#realtimeOptions;
    const send = (event: Record<string, unknown>) => {
      if (ws.readyState === WebSocket.OPEN)
        ws.send(
          JSON.stringify({ event_id: `event_${Math.random().toString(36).slice(2)}`, ...event }),
        );
    };
    send({
      type: 'session.created',
      session: { id: 'sess_fake', object: 'realtime.session', type: 'transcription' },
    });
    const vad = new EnergyVad({ sampleRate: 24_000, silenceMs: 400 });
    let appends = 0;
    let item = 0;
    let speaking: { id: string; startMs: number } | undefined;
    let chain = Promise.resolve();
    let previous: string | null = null;
    const utterance = (startMs: number, endMs: number, id: string) => {
      const { index, text } = this.#takeText();
      chain = chain.then(async () => {
        await options.gate?.(index);
        send({ type: 'input_audio_buffer.speech_started', audio_start_ms: startMs, item_id: id });
        send({ type: 'input_audio_buffer.speech_stopped', audio_end_ms: endMs, item_id: id });
        send({ type: 'input_audio_buffer.committed', item_id: id, previous_item_id: previous });
        previous = id;
        send({
          type: 'conversation.item.added',
          item: { id, type: 'message', role: 'user', content: [{ type: 'input_audio' }] },
        });
        for (const word of text.split(' ')) {
          send({
            type: 'conversation.item.input_audio_transcription.delta',
            item_id: id,
            content_index: 0,
            delta: `${word} `,
          });
        }
        send({
          type: 'conversation.item.input_audio_transcription.completed',
          item_id: id,
          content_index: 0,
          transcript: text,
          logprobs: [{ token: text, logprob: -0.1, bytes: [] }],
          usage: { type: 'duration', seconds: (endMs - startMs) / 1000 },
        });
      });
    };
    ws.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as Record<string, unknown>;
      record.messages.push(message);
      switch (message.type) {
        case 'session.update':
          send({ type: 'session.updated', session: message.session });
          break;
        case 'input_audio_buffer.append': {
          appends++;
          if (
            first &&
            options.dropAfterAppends !== undefined &&
            appends >= options.dropAfterAppends
          ) {
            ws.terminate();
            return;
          }
          const bytes = Buffer.from(String(message.audio), 'base64');
          const samples = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2);
          for (const event of vad.push(samples.slice())) {
            if (event.type === 'start')
              speaking = { id: `item_${item++}`, startMs: Math.round(event.atMs) };
            else if (speaking) {
              utterance(speaking.startMs, Math.round(event.atMs), speaking.id);
              speaking = undefined;
            }
          }
          break;
        }
        case 'input_audio_buffer.commit':
          if (speaking) {
            const open = speaking;
            speaking = undefined;
            for (const e of vad.flush()) utterance(open.startMs, Math.round(e.atMs), open.id);
          } else {
            chain = chain.then(() =>
              send({
                type: 'error',
                error: {
                  type: 'invalid_request_error',
                  code: 'input_audio_buffer_commit_empty',
                  message: 'Error committing input audio buffer: buffer too small.',
                },
              }),
            );
          }
          break;
      }
    });
  }

  /** Mistral Voxtral Realtime: one utterance per session, ended by input_audio.end. */
  #mistral(
    ws: WebSocket,
    record: RealtimeLog['connections'][number],
    first: boolean,
    url: string,
  ): void {
    const options = this.#realtimeOptions;
    const model = new URL(url, 'http://x').searchParams.get('model') ?? '';
    const send = (event: Record<string, unknown>) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(event));
    };
    send({
      type: 'session.created',
      session: {
        request_id: 'req_fake',
        model,
        audio_format: { encoding: 'pcm_s16le', sample_rate: 16000 },
      },
    });
    let appends = 0;
    let samples = 0;
    ws.on('message', (raw) => {
      const message = JSON.parse(String(raw)) as Record<string, unknown>;
      record.messages.push(message);
      if (message.type === 'session.update') {
        send({
          type: 'session.updated',
          session: { request_id: 'req_fake', model, ...(message.session as object) },
        });
      } else if (message.type === 'input_audio.append') {
        appends++;
        if (
          first &&
          options.dropAfterAppends !== undefined &&
          appends >= options.dropAfterAppends
        ) {
          ws.terminate();
          return;
        }
        samples += Buffer.from(String(message.audio), 'base64').length / 2;
      } else if (message.type === 'input_audio.end') {
        const { index, text } = this.#takeText();
        void (async () => {
          await options.gate?.(index);
          const seconds = samples / 16000;
          send({ type: 'transcription.language', audio_language: 'en' });
          for (const word of text.split(' '))
            send({ type: 'transcription.text.delta', text: `${word} ` });
          send({ type: 'transcription.segment', text, start: 0.1, end: seconds - 0.1 });
          send({
            type: 'transcription.done',
            model,
            text,
            language: 'en',
            segments: [{ type: 'transcription_segment', text, start: 0.1, end: seconds - 0.1 }],
            usage: {
              prompt_audio_seconds: Math.ceil(seconds),
              prompt_tokens: 10,
              completion_tokens: 5,
              total_tokens: 15,
            },
          });
        })();
      }
    });
  }
}

/** Synthetic speech for protocol tests: tone bursts (`speechMs` each) with silence between. */
export function toneUtterances(
  rate: number,
  count: number,
  speechMs = 800,
  silenceMs = 900,
): Int16Array {
  const speech = Math.round((rate * speechMs) / 1000);
  const silence = Math.round((rate * silenceMs) / 1000);
  const out = new Int16Array(silence + count * (speech + silence));
  let at = silence;
  for (let u = 0; u < count; u++) {
    for (let i = 0; i < speech; i++)
      out[at + i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / rate));
    at += speech + silence;
  }
  return out;
}

export async function* chunked(
  samples: Int16Array,
  rate: number,
  ms = 100,
): AsyncIterable<Int16Array> {
  const step = Math.round((rate * ms) / 1000);
  for (let i = 0; i < samples.length; i += step) yield samples.subarray(i, i + step);
}
