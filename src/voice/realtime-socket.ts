// A realtime provider's WebSocket: JSON messages in and out, every message and the close
// put on one queue with the audio, so a stream's state machine handles one thing at a time.
import WebSocket from 'ws';
import { VoiceProviderError } from './provider-error.ts';

/** A queue one consumer awaits; producers push from callbacks. */
export class AsyncQueue<T> {
  #items: T[] = [];
  #waiting: ((item: T) => void) | undefined;

  push(item: T): void {
    const waiting = this.#waiting;
    if (waiting) {
      this.#waiting = undefined;
      waiting(item);
    } else this.#items.push(item);
  }

  next(): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }
}

export type SocketInput =
  | { kind: 'message'; socket: number; data: Record<string, unknown> }
  | { kind: 'closed'; socket: number; code: number; reason: string };

export interface ProviderSocket {
  readonly id: number;
  send(message: Record<string, unknown>): void;
  close(): void;
  readonly closedByUs: boolean;
}

let nextSocket = 0;

/**
 * Opens a socket and resolves once it is open; its messages and its close go on `queue`.
 * An HTTP refusal of the upgrade (401, 429, ...) is a VoiceProviderError with the status.
 */
export function openSocket(
  url: string,
  headers: Record<string, string>,
  queue: { push(item: SocketInput): void },
  name: string,
  keyName: string | undefined,
): Promise<ProviderSocket> {
  const id = nextSocket++;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: 30_000 });
    let open = false;
    let closedByUs = false;
    const socket: ProviderSocket = {
      id,
      send: (message) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
      },
      close: () => {
        closedByUs = true;
        ws.close(1000);
      },
      get closedByUs() {
        return closedByUs;
      },
    };
    ws.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (text: string) => {
        body += text;
      });
      response.on('end', () => {
        const retryAfter = response.headers['retry-after'];
        const hint = status === 401 || status === 403 ? `: check ${keyName ?? 'the API key'}` : '';
        reject(
          new VoiceProviderError(
            `${name} refused the realtime connection (HTTP ${status}): ${body.trim().slice(0, 200) || 'no message'}${hint}`,
            {
              status,
              retryable: status === 429 || status >= 500,
              ...(typeof retryAfter === 'string' && Number.isFinite(Number(retryAfter))
                ? { retryAfterMs: Number(retryAfter) * 1000 }
                : {}),
            },
          ),
        );
      });
    });
    ws.on('open', () => {
      open = true;
      resolve(socket);
    });
    ws.on('message', (raw) => {
      let data: unknown;
      try {
        data = JSON.parse(String(raw));
      } catch {
        return;
      }
      if (data && typeof data === 'object')
        queue.push({ kind: 'message', socket: id, data: data as Record<string, unknown> });
    });
    ws.on('error', (error) => {
      if (!open) {
        reject(
          new VoiceProviderError(
            `${name} is unreachable at ${url.split('?')[0]}: ${error.message}`,
            { retryable: true },
          ),
        );
      }
    });
    ws.on('close', (code, reason) => {
      if (open) queue.push({ kind: 'closed', socket: id, code, reason: String(reason) });
    });
  });
}

export function base64Pcm(samples: Int16Array): string {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString('base64');
}

/** `https://host/v1` as `wss://host/v1`. */
export function websocketBase(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/^http(s?):/, 'ws$1:');
}

/** A provider's `error` message as one line. */
export function realtimeErrorMessage(data: Record<string, unknown>): string {
  const error = data.error as { message?: unknown; code?: unknown } | undefined;
  const message = error?.message;
  if (typeof message === 'string') return message;
  if (
    message &&
    typeof message === 'object' &&
    typeof (message as { detail?: unknown }).detail === 'string'
  ) {
    return (message as { detail: string }).detail;
  }
  return JSON.stringify(data.error ?? data).slice(0, 200);
}

/** What a realtime stream handles, one at a time: the sockets' messages and closes, and the audio. */
export type RealtimeInput =
  | SocketInput
  | { kind: 'audio'; samples: Int16Array }
  | { kind: 'audio-end' }
  | { kind: 'audio-error'; error: unknown };

/** Puts the audio on a stream's queue as it comes, then its end (or its error). */
export function pumpAudio(
  audio: AsyncIterable<Int16Array>,
  queue: AsyncQueue<RealtimeInput>,
): void {
  (async () => {
    try {
      for await (const samples of audio) queue.push({ kind: 'audio', samples });
      queue.push({ kind: 'audio-end' });
    } catch (error) {
      queue.push({ kind: 'audio-error', error });
    }
  })();
}

/** The `authorization` header of a key, when there is one. */
export function bearerHeaders(apiKey: string | undefined): Record<string, string> {
  return apiKey ? { authorization: `Bearer ${apiKey}` } : {};
}

/**
 * Counts a socket the provider closed against the stream's reconnects: throws when it has
 * closed `maxReconnects` times already, else returns the new count.
 */
export function countReconnect(
  provider: string,
  closed: Extract<SocketInput, { kind: 'closed' }>,
  reconnects: number,
  maxReconnects: number,
): number {
  if (reconnects >= maxReconnects) {
    throw new VoiceProviderError(
      `${provider} closed the realtime connection (${closed.code}${closed.reason ? `: ${closed.reason}` : ''}) ${reconnects + 1} times; gave up`,
      { retryable: false },
    );
  }
  return reconnects + 1;
}
