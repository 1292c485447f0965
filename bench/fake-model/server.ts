import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isWorkloadName, workloads } from '../workloads.ts';
import { readConversation } from './conversation.ts';
import { replyBody } from './reply.ts';

const route = /^\/([a-z])\/(\d+)(?:-(\d+))?\/v1\/chat\/completions$/;

/** How long a barrier waits for its last run before it lets the others go anyway. */
const barrierTimeoutMs = 300_000;

/**
 * The fake model: an OpenAI-compatible Chat Completions server on 127.0.0.1: SSE for requests
 * with `"stream": true`, one JSON body otherwise.
 * The base URL names the workload and the latency before the first byte, in ms:
 * `http://127.0.0.1:<port>/<workload>/<latency>/v1`. It keeps no state but a request count per
 * run, dropped when the run gets its final answer. `/<workload>/<latency>-<n>/v1` adds a
 * barrier: first requests are held until n runs have sent theirs, so n runs are waiting on
 * the model at the same moment however long a framework takes to start them all; then
 * every request is answered `latency` ms after the barrier opened or it arrived.
 */
export class FakeModelServer {
  readonly #servers: Server[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #requests = new Map<string, number>();
  readonly #watchers = new Map<string, (at: number) => void>();
  /** Arrival times of each request, by run, for runs of the workloads being traced. */
  readonly #traces = new Map<string, Map<string, number[]>>();
  #origins: string[] = [];
  #closeConnections = false;
  /** Runs that have reached the barrier, and the barrier's opening. */
  readonly #barrierRuns = new Set<string>();
  #barrierOpened: Promise<void> | undefined;
  #openBarrier: (() => void) | undefined;
  /** Requests served since the server started. */
  served = 0;

  #listen(): Server {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `fake model failed: ${String(error)}` } }));
      });
    });
    server.keepAliveTimeout = 30_000;
    server.headersTimeout = 60_000;
    server.requestTimeout = 0;
    server.on('connection', (socket) => {
      socket.setNoDelay(true);
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    return server;
  }

  /**
   * Listens on `ports` ports (one handler behind them all). Thousands of concurrent runs are
   * spread over several: with 10,000 connections to one host and port, the kernel's search
   * for a free local port and the client's connection pool both slow down with the count,
   * a cost of the test rig, not of any framework. `closeConnections` answers with
   * `Connection: close`: a client then never holds a run's second connection while its first
   * is still being released, which at 10,000 runs would pass the 20,000 file descriptors a
   * process may open here.
   */
  static async start(
    ports = 1,
    options: { closeConnections?: boolean } = {},
  ): Promise<FakeModelServer> {
    const fake = new FakeModelServer();
    fake.#closeConnections = options.closeConnections ?? false;
    for (let i = 0; i < ports; i++) {
      const server = fake.#listen();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => resolve());
      });
      fake.#servers.push(server);
      fake.#origins.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    }
    return fake;
  }

  /** How many ports it listens on. */
  get ports(): number {
    return this.#origins.length;
  }

  /** `http://127.0.0.1:<port>` of one of the ports. */
  origin(port = 0): string {
    return this.#origins[port % this.#origins.length]!;
  }

  /** The base URL an OpenAI client takes for a workload (on one of the ports). */
  baseUrl(workload: string, latencyMs = 0, port = 0): string {
    return baseUrlOf(this.origin(port), workload, latencyMs);
  }

  /** Resolves with `performance.now()` when the first request of a run tagged `tag` arrives. */
  firstRequest(tag: string): Promise<number> {
    return new Promise((resolve) => this.#watchers.set(tag, resolve));
  }

  /** Records when each request of each run of `workload` arrives, until `takeTrace`. */
  trace(workload: string): void {
    this.#traces.set(workload, new Map());
  }

  /** Arrival times (`performance.now()`) of every request, by run tag. */
  takeTrace(workload: string): Map<string, number[]> {
    const trace = this.#traces.get(workload) ?? new Map<string, number[]>();
    this.#traces.delete(workload);
    return trace;
  }

  /** Runs that started and have not had their final answer. */
  get openRuns(): number {
    return this.#requests.size;
  }

  forgetOpenRuns(): void {
    this.#requests.clear();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await Promise.all(
      this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }

  /** Resolves once `size` runs have reached the barrier (or it timed out). */
  #barrier(tag: string, size: number): Promise<void> {
    if (!this.#barrierOpened) {
      this.#barrierOpened = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, barrierTimeoutMs);
        this.#openBarrier = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.#barrierRuns.add(tag);
    if (this.#barrierRuns.size >= size) this.#openBarrier?.();
    return this.#barrierOpened;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = performance.now();
    const raw = await readBody(req);
    const match = route.exec(req.url ?? '');
    if (!match || req.method !== 'POST' || !isWorkloadName(match[1]!)) {
      sendError(res, 404, `fake model: no route for ${req.method} ${req.url}`);
      return;
    }
    const workload = workloads[match[1] as keyof typeof workloads];
    const trace = this.#traces.get(workload.name);
    const latency = Number(match[2]);
    const barrier = match[3] === undefined ? 0 : Number(match[3]);
    const body = JSON.parse(raw) as {
      model?: unknown;
      stream?: unknown;
      messages?: unknown;
      stream_options?: { include_usage?: unknown };
    };
    if (!Array.isArray(body.messages)) {
      sendError(res, 400, 'fake model: "messages" must be an array');
      return;
    }
    const stream = body.stream === true;
    const conversation = readConversation(body.messages);
    const tag = conversation.tag ?? 'unknown';
    const requests = (this.#requests.get(tag) ?? 0) + 1;
    this.#requests.set(tag, requests);
    this.served++;
    if (trace) {
      const times = trace.get(tag) ?? [];
      times.push(arrived);
      trace.set(tag, times);
    }
    const watcher = this.#watchers.get(tag);
    if (watcher) {
      this.#watchers.delete(tag);
      watcher(arrived);
    }
    const reply = replyBody(
      workload,
      conversation,
      requests,
      typeof body.model === 'string' ? body.model : 'bench-model',
      body.stream_options?.include_usage === true,
      stream,
    );
    if (reply.final) this.#requests.delete(tag);
    if (barrier > 0 && conversation.results === 0) await this.#barrier(tag, barrier);
    if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
    res.writeHead(200, {
      ...(stream
        ? { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }
        : { 'content-type': 'application/json' }),
      'x-request-id': `req_${this.served}`,
      ...(this.#closeConnections ? { connection: 'close' } : {}),
    });
    res.end(reply.body);
  }
}

/** The base URL that names a workload and a latency, on a server's origin. */
export function baseUrlOf(origin: string, workload: string, latencyMs = 0, barrier = 0): string {
  return `${origin}/${workload}/${latencyMs}${barrier > 0 ? `-${barrier}` : ''}/v1`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code: null } }),
  );
}
