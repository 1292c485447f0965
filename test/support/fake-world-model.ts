import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { decodePng, encodePng } from '../../src/environments/png.ts';

/** What the world answers a request: a status and a body, or nothing (the connection drops). */
type Outcome = { status: number; body: unknown } | 'drop';

/**
 * A world-model server for tests: the wire formats of docs/environments.md over real HTTP and
 * over a real WebSocket (`wsUrl`; sessions outlive the socket), with
 * a world simple enough to check. A 16×16 top-down field; the agent walks (w/s forward and back,
 * a/d sideways, relative to where it faces) and turns with the mouse (90° per 50 px of dx); a
 * beacon placed by the seed ends the episode when reached. Frames (64×64 PNG, 4 px a tile) are
 * rendered from the state alone, so the same prompt, image, seed and actions give the same
 * frames. The prompt tints the ground (text-to-world), a start image's first pixel the border
 * (image+text-to-world).
 */
export class FakeWorldModel {
  /** Every request: HTTP as method and path, a socket's messages as `WS` and their type. */
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  /** WebSocket connections opened (a reconnect is one more). */
  connections = 0;
  /** Steps whose first answer is lost: the connection drops after the step is applied. */
  readonly dropAnswerOf = new Set<number>();
  /** Requests that get no answer at all: the connection drops before anything happens. */
  dropEverything = false;
  /** Socket steps that are never answered (the socket stays open): a server that hangs. */
  hangSteps = false;
  token: string | undefined;
  #server: Server | undefined;
  readonly #wss = new WebSocketServer({ noServer: true });
  #sessions = new Map<string, Session>();
  #count = 0;
  url = '';
  wsUrl = '';

  async start(): Promise<this> {
    this.#server = createServer((req, res) => {
      void this.#handle(req, res);
    });
    this.#server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket as Socket, head));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
    const port = (this.#server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${port}`;
    this.wsUrl = `ws://127.0.0.1:${port}/v1/world`;
    return this;
  }

  async close(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.#server ? this.#server.close(() => resolve()) : resolve(),
    );
  }

  get openSessions(): number {
    return this.#sessions.size;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      send(res, 400, { error: 'the body is not JSON' });
      return;
    }
    const path = req.url ?? '/';
    const answer = (outcome: Outcome) => {
      if (outcome === 'drop') req.socket.destroy();
      else send(res, outcome.status, outcome.body);
    };
    this.requests.push({ method: req.method ?? '', path, body });
    if (this.dropEverything) {
      req.socket.destroy();
      return;
    }
    if (this.token && req.headers.authorization !== `Bearer ${this.token}`) {
      send(res, 401, { error: 'a bearer token is required' });
      return;
    }
    if (req.method === 'POST' && path === '/v1/sessions') {
      answer(this.#start(body));
      return;
    }
    const step = /^\/v1\/sessions\/([^/]+)\/actions$/.exec(path);
    if (req.method === 'POST' && step) {
      answer(this.#step(decodeURIComponent(step[1]!), body));
      return;
    }
    const one = /^\/v1\/sessions\/([^/]+)$/.exec(path);
    if (req.method === 'DELETE' && one) {
      this.#sessions.delete(decodeURIComponent(one[1]!));
      res.writeHead(204).end();
      return;
    }
    send(res, 404, { error: `no route ${req.method} ${path}` });
  }

  #upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    if (req.url !== '/v1/world') {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
      return;
    }
    if (this.token && req.headers.authorization !== `Bearer ${this.token}`) {
      socket.end(
        'HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"error":"a bearer token is required"}',
      );
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.connections++;
      ws.on('message', (raw) => this.#message(ws, String(raw)));
    });
  }

  /** One socket message: `start`, `step` or `end`, answered under its `id`. */
  #message(ws: WebSocket, text: string): void {
    let message: { type?: unknown; id?: unknown; session?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      ws.send(JSON.stringify({ type: 'error', status: 400, error: 'the message is not JSON' }));
      return;
    }
    this.requests.push({ method: 'WS', path: String(message.type), body: message });
    if (this.dropEverything) {
      ws.terminate();
      return;
    }
    if (this.hangSteps && message.type === 'step') return;
    const { id } = message;
    let outcome: Outcome;
    let type: string;
    if (message.type === 'start') {
      [outcome, type] = [this.#start(message), 'started'];
    } else if (message.type === 'step') {
      [outcome, type] = [this.#step(String(message.session), message), 'stepped'];
    } else if (message.type === 'end') {
      this.#sessions.delete(String(message.session));
      [outcome, type] = [{ status: 200, body: {} }, 'ended'];
    } else {
      [outcome, type] = [{ status: 400, body: { error: `type: no message ${message.type}` } }, ''];
    }
    if (outcome === 'drop') {
      ws.terminate();
      return;
    }
    const body = outcome.body as object;
    ws.send(
      JSON.stringify(
        outcome.status === 200
          ? { type, id, ...body }
          : { type: 'error', id, status: outcome.status, ...body },
      ),
    );
  }

  #start(body: unknown): Outcome {
    const b = body as { prompt?: unknown; seed?: unknown; image?: { data?: unknown } };
    if (typeof b?.prompt !== 'string' || !b.prompt) {
      return { status: 400, body: { error: 'prompt: a world needs a prompt' } };
    }
    const seed = typeof b.seed === 'number' ? b.seed : 0;
    let border: [number, number, number] = [40, 40, 40];
    if (b.image && typeof b.image.data === 'string') {
      try {
        const image = decodePng(Buffer.from(b.image.data, 'base64'));
        border = [image.rgb[0]!, image.rgb[1]!, image.rgb[2]!];
      } catch {
        return { status: 400, body: { error: 'image: not a PNG this server can read' } };
      }
    }
    const hue = createHash('sha256').update(b.prompt).digest();
    const id = `ses_${++this.#count}`;
    const session: Session = {
      x: 2,
      y: 8,
      facing: 0,
      beacon: { x: 4 + (seed % 10), y: 8 },
      ground: [hue[0]! >> 1, 96 + (hue[1]! >> 2), hue[2]! >> 1],
      border,
      step: 0,
      last: undefined,
    };
    this.#sessions.set(id, session);
    return {
      status: 200,
      body: { session: id, frame: frame(session), text: `A world of ${b.prompt}.` },
    };
  }

  #step(id: string, body: unknown): Outcome {
    const session = this.#sessions.get(id);
    if (!session) return { status: 404, body: { error: `no session ${id}` } };
    const b = body as {
      step?: unknown;
      action?: { keys?: string[]; mouse?: { dx?: number }; ticks?: number };
    };
    if (typeof b?.step !== 'number') {
      return { status: 400, body: { error: 'step: the step number is required' } };
    }
    if (b.step === session.step && session.last) return { status: 200, body: session.last };
    if (b.step !== session.step + 1) {
      return {
        status: 409,
        body: { error: `step ${b.step} is out of order (the next is ${session.step + 1})` },
      };
    }
    const keys = b.action?.keys ?? [];
    if (keys.includes('w') && keys.includes('s')) {
      return { status: 400, body: { error: 'keys: w and s pull opposite ways; hold one of them' } };
    }
    const turns = Math.trunc((b.action?.mouse?.dx ?? 0) / 50);
    session.facing = (((session.facing + turns) % 4) + 4) % 4;
    const [fx, fy] = [
      [1, 0],
      [0, 1],
      [-1, 0],
      [0, -1],
    ][session.facing]!;
    for (let tick = 0; tick < (b.action?.ticks ?? 1); tick++) {
      let dx = 0;
      let dy = 0;
      if (keys.includes('w')) [dx, dy] = [fx!, fy!];
      if (keys.includes('s')) [dx, dy] = [-fx!, -fy!];
      if (keys.includes('a')) [dx, dy] = [dx + fy!, dy - fx!];
      if (keys.includes('d')) [dx, dy] = [dx - fy!, dy + fx!];
      session.x = Math.max(0, Math.min(15, session.x + dx));
      session.y = Math.max(0, Math.min(15, session.y + dy));
    }
    session.step = b.step;
    const reached = session.x === session.beacon.x && session.y === session.beacon.y;
    session.last = {
      frame: frame(session),
      reward: reached ? 1 : 0,
      terminated: reached,
      info: {
        distance: Math.abs(session.beacon.x - session.x) + Math.abs(session.beacon.y - session.y),
      },
    };
    if (this.dropAnswerOf.delete(b.step)) return 'drop';
    return { status: 200, body: session.last };
  }
}

interface Session {
  x: number;
  y: number;
  facing: number;
  beacon: { x: number; y: number };
  ground: [number, number, number];
  border: [number, number, number];
  step: number;
  last: unknown;
}

function frame(s: Session): { media_type: 'image/png'; data: string } {
  const size = 64;
  const rgb = new Uint8Array(size * size * 3);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const tx = px >> 2;
      const ty = py >> 2;
      let color = s.ground;
      if (px === 0 || py === 0 || px === size - 1 || py === size - 1) color = s.border;
      if (tx === s.beacon.x && ty === s.beacon.y) color = [250, 220, 40];
      if (tx === s.x && ty === s.y) color = [220, 40, 40];
      rgb.set(color, (py * size + px) * 3);
    }
  }
  return { media_type: 'image/png', data: encodePng(size, size, rgb).toString('base64') };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
