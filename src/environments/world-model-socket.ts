import WebSocket from 'ws';
import {
  parseJson,
  type WorldModelAnswer,
  type WorldModelRequest,
  type WorldModelTransport,
} from './world-model-transport.ts';

interface Pending {
  id: number;
  resolve(answer: WorldModelAnswer): void;
  reject(error: Error): void;
}

/**
 * The WebSocket wire format (docs/environments.md): one socket, JSON messages, each request
 * with an `id` its answer repeats. `{"type": "start", ...}` is answered by `started`, `step` by
 * `stepped`, `end` by `ended`, and any of them by `{"type": "error", "status": 400, "error":
 * "..."}` (statuses as over HTTP). Sessions outlive the socket: a dropped connection is opened
 * again on the next request and the step sent again under its number. The token is a bearer
 * header on the upgrade, never part of the URL.
 */
export class SocketWorldModelTransport implements WorldModelTransport {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  #socket: WebSocket | undefined;
  #opening: Promise<WebSocket | WorldModelAnswer> | undefined;
  #pending: Pending | undefined;
  #ids = 0;

  constructor(url: string, token: string | undefined) {
    this.#url = url;
    this.#headers = token ? { authorization: `Bearer ${token}` } : {};
  }

  async send(request: WorldModelRequest, signal: AbortSignal): Promise<WorldModelAnswer> {
    signal.throwIfAborted();
    const socket = await this.#open(signal);
    // The upgrade was answered with an HTTP status (401, 404, ...): that is the answer.
    if (!(socket instanceof WebSocket)) return socket;
    const id = ++this.#ids;
    const message =
      request.kind === 'start'
        ? { type: 'start', id, ...request.body }
        : { type: 'step', id, session: request.session, ...request.body };
    return new Promise<WorldModelAnswer>((resolve, reject) => {
      const onAbort = () => {
        // No answer in time (or the run was stopped): this socket is given up, as HTTP would.
        this.#drop(socket);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pending = {
        id,
        resolve: (answer) => {
          signal.removeEventListener('abort', onAbort);
          resolve(answer);
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      socket.send(JSON.stringify(message), (error) => {
        if (error) this.#fail(error);
      });
    });
  }

  async end(session: string): Promise<void> {
    const socket = this.#socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    const id = ++this.#ids;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 5_000);
      this.#pending = {
        id,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      socket.send(JSON.stringify({ type: 'end', id, session }));
    });
    this.#pending = undefined;
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close(1000);
    });
  }

  /** The open socket, opening it (again) when there is none. */
  async #open(signal: AbortSignal): Promise<WebSocket | WorldModelAnswer> {
    if (this.#socket?.readyState === WebSocket.OPEN) return this.#socket;
    this.#opening ??= this.#connect(signal).finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  #connect(signal: AbortSignal): Promise<WebSocket | WorldModelAnswer> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.#url, { headers: this.#headers });
      let settled = false;
      const onAbort = () => {
        socket.terminate();
        settle(() => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted')));
      };
      const settle = (done: () => void) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        done();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('unexpected-response', (_request, response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => {
          socket.terminate();
          settle(() => resolve({ status: response.statusCode ?? 0, body: parseJson(text), text }));
        });
      });
      socket.on('open', () => {
        this.#socket = socket;
        settle(() => resolve(socket));
      });
      socket.on('message', (raw) => {
        if (this.#socket === socket) this.#receive(String(raw));
      });
      // The first of `error` and `close` fails the request waiting on this socket, if it is
      // still the live one (a socket given up on after a timeout fails nothing).
      const lost = (error: Error) => {
        if (!settled) {
          settle(() => reject(error));
          return;
        }
        if (this.#socket !== socket) return;
        this.#socket = undefined;
        this.#fail(error);
      };
      socket.on('error', lost);
      socket.on('close', (code, reason) => {
        const why = String(reason);
        lost(new Error(`the socket closed (${code}${why ? `: ${why}` : ''})`));
      });
    });
  }

  #receive(text: string): void {
    const pending = this.#pending;
    if (!pending) return;
    const body = parseJson(text) as { id?: unknown; type?: unknown; status?: unknown } | undefined;
    if (body === undefined) {
      this.#pending = undefined;
      pending.resolve({ status: 200, body: undefined, text });
      return;
    }
    // An answer to a request given up on (sent on a socket since dropped) is not this one's.
    if (body?.id !== pending.id) return;
    this.#pending = undefined;
    const status =
      body.type === 'error' ? (typeof body.status === 'number' ? body.status : 500) : 200;
    pending.resolve({ status, body, text });
  }

  #fail(error: Error): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
  }

  #drop(socket: WebSocket): void {
    if (this.#socket === socket) this.#socket = undefined;
    this.#pending = undefined;
    socket.terminate();
  }
}
