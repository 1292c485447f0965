import { readFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { anthropicMessages } from './anthropic.ts';
import { openaiChat } from './openai-chat.ts';
import { openaiResponses } from './openai-responses.ts';
import {
  type BytesReply,
  type ErrorReply,
  type JsonObject,
  type JsonValue,
  type RawReply,
  type Reply,
  reply,
} from './reply.ts';
import type { RouteName, WireFormat } from './wire-format.ts';

/** A request the fake provider received, as sent over the wire. */
export interface RecordedRequest {
  method: string;
  path: string;
  route: RouteName | undefined;
  /** Lower-cased header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (`{}` when the body was not a JSON object). */
  body: JsonObject;
  rawBody: string;
}

const routes: Record<string, WireFormat> = {
  '/v1/messages': anthropicMessages,
  '/v1/responses': openaiResponses,
  '/v1/chat/completions': openaiChat,
};

const sseHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

/**
 * A local HTTP server that answers like the Anthropic and OpenAI APIs. Tests queue replies;
 * each request takes the next one and gets it in the wire format of the route it hit,
 * streamed when the request asks for `stream: true`, else as one JSON body. Every
 * request is recorded. Listens on 127.0.0.1 on a free port.
 */
export class FakeProvider {
  readonly requests: RecordedRequest[] = [];
  readonly #queue: Reply[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #count = 0;
  #origin = '';

  private constructor() {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `fake provider failed: ${String(error)}` } }));
        } else {
          res.destroy();
        }
      });
    });
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(): Promise<FakeProvider> {
    const fake = new FakeProvider();
    await new Promise<void>((resolve, reject) => {
      fake.#server.once('error', reject);
      fake.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = fake.#server.address() as AddressInfo;
    fake.#origin = `http://127.0.0.1:${port}`;
    return fake;
  }

  /** `http://127.0.0.1:<port>`, the host as the official SDKs take it. */
  get origin(): string {
    return this.#origin;
  }

  /** `<origin>/v1`, the base URL OpenAI clients take. */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  /** Queues replies; each request takes the next one, whatever its route. */
  enqueue(...replies: Reply[]): this {
    this.#queue.push(...replies);
    return this;
  }

  /** Replies queued and not yet served. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Forgets recorded requests and queued replies. */
  reset(): void {
    this.requests.length = 0;
    this.#queue.length = 0;
  }

  /** Stops listening and destroys open connections. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve, reject) =>
      this.#server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const format = routes[path];
    const body = parseObject(rawBody);
    const method = req.method ?? 'GET';
    this.requests.push({ method, path, route: format?.route, headers: req.headers, body, rawBody });
    const requestId = `req_011Fake${String(++this.#count).padStart(14, '0')}`;

    if (!format || method !== 'POST') {
      sendJson(res, 404, {
        error: {
          message: `fake provider: no route for ${method} ${path} (it serves POST ${Object.keys(routes).join(', ')})`,
          type: 'not_found_error',
          param: null,
          code: null,
        },
      });
      return;
    }
    const headers = format.responseHeaders(requestId);
    const next = this.#queue.shift();
    if (!next) {
      const error = reply.serverError(
        `fake provider: no reply queued for POST ${path} (request ${this.requests.length}); call fake.enqueue(...) before calling the model`,
      );
      sendJson(res, 500, format.errorBody(error, requestId), headers);
      return;
    }
    if (body.stream !== true && next.kind !== 'raw' && next.kind !== 'bytes') {
      await sendWhole(res, format, next, body, requestId);
      return;
    }

    switch (next.kind) {
      case 'error':
        sendError(res, format, next, requestId);
        return;
      case 'bytes': {
        res.writeHead(next.status, { 'content-type': next.contentType, ...headers });
        if (next.chunks.length === 0) res.flushHeaders();
        for (const chunk of next.chunks) await write(res, chunk);
        if (next.close === 'end') res.end();
        else {
          await new Promise((resolve) => setTimeout(resolve, next.chunks.length === 0 ? 20 : 0));
          res.socket?.destroy();
        }
        return;
      }
      case 'raw': {
        const content = readFileSync(next.file);
        res.writeHead(next.status, {
          'content-type': next.contentType,
          ...headers,
          ...next.headers,
        });
        if (next.contentType.startsWith('text/event-stream')) {
          for (const frame of content.toString('utf8').split(/(?<=\n\n)/)) await write(res, frame);
          res.end();
        } else {
          res.end(content);
        }
        return;
      }
      case 'stream': {
        res.writeHead(200, { ...sseHeaders, ...headers });
        for (const frame of format.streamFrames(next, body, requestId)) await write(res, frame);
        res.end();
        return;
      }
      case 'stream-error': {
        res.writeHead(200, { ...sseHeaders, ...headers });
        const frames = format.streamFrames(next.reply, body, requestId).slice(0, next.afterEvents);
        for (const frame of frames) await write(res, frame);
        await write(res, format.streamErrorFrame(next.error, frames.length));
        res.end();
        return;
      }
      case 'cut': {
        res.writeHead(200, { ...sseHeaders, ...headers });
        const frames = format.streamFrames(next.reply, body, requestId).slice(0, next.afterEvents);
        if (frames.length === 0) res.flushHeaders();
        for (const frame of frames) await write(res, frame);
        if (next.mode === 'end') {
          res.end();
        } else {
          // Give the head a moment to leave when no frame was written, then cut the line.
          await new Promise((resolve) => setTimeout(resolve, frames.length === 0 ? 20 : 0));
          res.socket?.destroy();
        }
        return;
      }
    }
  }
}

/**
 * A reply to a request without `stream`: the whole body as JSON. A reply that errs mid-stream
 * errs as a whole response does, with its status; a cut one breaks off inside the body.
 */
async function sendWhole(
  res: ServerResponse,
  format: WireFormat,
  next: Exclude<Reply, RawReply | BytesReply>,
  request: JsonObject,
  requestId: string,
): Promise<void> {
  const headers = format.responseHeaders(requestId);
  switch (next.kind) {
    case 'error':
      sendError(res, format, next, requestId);
      return;
    case 'stream':
      sendJson(res, 200, format.wholeBody(next, request, requestId), headers);
      return;
    case 'stream-error':
      sendError(res, format, next.error, requestId);
      return;
    case 'cut': {
      const body = JSON.stringify(format.wholeBody(next.reply, request, requestId));
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      await write(res, body.slice(0, Math.floor(body.length / 2)));
      if (next.mode === 'end') res.end();
      else res.socket?.destroy();
      return;
    }
  }
}

function sendError(
  res: ServerResponse,
  format: WireFormat,
  error: ErrorReply,
  requestId: string,
): void {
  sendJson(res, error.status, format.errorBody(error, requestId), {
    ...format.responseHeaders(requestId),
    ...error.headers,
  });
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: JsonObject,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function write(res: ServerResponse, chunk: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    res.write(chunk, (error) => (error ? reject(error) : resolve()));
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseObject(text: string): JsonObject {
  try {
    const value = JSON.parse(text) as JsonValue;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}
