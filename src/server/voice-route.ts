// `agentd serve`'s voice sessions: a WebSocket at /voice, so a web page can talk to an agent.
// The key is the same as for /runs (scope `runs`): `Authorization: Bearer <key>`, or, from a
// browser (which cannot set headers on a WebSocket), the subprotocols `agentd-voice, <key>`.
// The protocol is in docs/voice.md.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Config } from '../config/config.ts';
import { errorMessage } from '../core/errors.ts';
import { findAgent, listAgents, unknownAgent } from '../definition/agent-catalog.ts';
import { RunSuspension } from '../runtime/agent-loop.ts';
import { prepareAgent } from '../runtime/prepare-agent.ts';
import type { Store } from '../store/store.ts';
import { Resampler } from '../voice/audio.ts';
import { AsyncQueue } from '../voice/realtime-socket.ts';
import { chooseTranscriber, streamingTranscriber } from '../voice/transcriber.ts';
import { runVoiceSession } from '../voice/voice-session.ts';
import type { ApiKeys } from './api-keys.ts';

export interface VoiceRouteOptions {
  store: Store;
  config: Config;
  keys: ApiKeys;
  allowedOrigins?: readonly string[];
  log: (line: string) => void;
}

const protocol = 'agentd-voice';

function refuse(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ type: 'about:blank', title: reason, status, detail: message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

export interface VoiceRoute {
  /** Takes a WebSocket upgrade of `/voice` (anything else is refused with 404). */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Ends every session (their runs are suspended). */
  close(): Promise<void>;
}

type Transcriber = ReturnType<typeof streamingTranscriber>;
type Prepared = Awaited<ReturnType<typeof prepareAgent>>;

/** Why an upgrade is refused: the status line and the problem's detail. */
interface Refusal {
  status: number;
  reason: string;
  message: string;
}

/** What an accepted upgrade asked for: the agent, the client's sample rate, the transcriber. */
interface SessionRequest {
  agentPath: string;
  rate: number;
  transcriber: Transcriber;
}

export function createVoiceRoute(options: VoiceRouteOptions): VoiceRoute {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has(protocol) ? protocol : false),
  });
  const sessions = new Set<{ controller: AbortController; done: Promise<void> }>();
  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://agentd');
    if (url.pathname !== '/voice') {
      refuse(
        socket,
        404,
        'Not Found',
        `no WebSocket route ${url.pathname}: voice sessions are at /voice`,
      );
      return;
    }
    void accept(req, socket, head, url).catch((error: unknown) => {
      options.log(`agentd serve: voice: ${errorMessage(error)}`);
      socket.destroy();
    });
  };

  async function accept(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
  ): Promise<void> {
    const admitted = await admit(req, url, options);
    if ('status' in admitted) {
      refuse(socket, admitted.status, admitted.reason, admitted.message);
      return;
    }
    const prepared = await prepareAgent(
      admitted.agentPath,
      {},
      { config: options.config, onNotice: (n) => options.log(`agentd serve: voice: ${n}`) },
    );
    wss.handleUpgrade(req, socket, head, (ws) => {
      const controller = new AbortController();
      const entry = { controller, done: Promise.resolve() };
      sessions.add(entry);
      const session = { ...admitted, prepared, controller, url };
      entry.done = talk(ws, session, options.store).finally(() => {
        sessions.delete(entry);
        return prepared.toolset.close();
      });
    });
  }

  return {
    upgrade,
    async close() {
      for (const session of sessions)
        session.controller.abort(new RunSuspension('agentd serve is shutting down'));
      await Promise.all([...sessions].map((s) => s.done.catch(() => undefined)));
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}

/** Checks an upgrade in order: its origin, its key and the key's scope, then what it asks for. */
async function admit(
  req: IncomingMessage,
  url: URL,
  options: VoiceRouteOptions,
): Promise<SessionRequest | Refusal> {
  const origin = req.headers.origin;
  if (
    origin &&
    !(options.allowedOrigins ?? []).includes(origin) &&
    new URL(origin).host !== req.headers.host
  ) {
    return {
      status: 403,
      reason: 'Forbidden',
      message: `origin ${origin} is not allowed: start agentd serve with --allowed-origin ${origin}`,
    };
  }
  return (await checkKey(req, options.keys)) ?? sessionRequest(url, options.config);
}

/** The refusal for a missing, unknown or revoked key, or one without the `runs` scope. */
async function checkKey(req: IncomingMessage, keys: ApiKeys): Promise<Refusal | undefined> {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const key =
    bearer ?? (offered.includes(protocol) ? offered.find((p) => p !== protocol) : undefined);
  if (!key) {
    return {
      status: 401,
      reason: 'Unauthorized',
      message: `this route needs an API key: send "Authorization: Bearer <key>" or the subprotocols "${protocol}, <key>" (create one with agentd keys create)`,
    };
  }
  const record = await keys.verify(key);
  if (!record) {
    return { status: 401, reason: 'Unauthorized', message: 'the API key is unknown or revoked' };
  }
  if (!record.scopes.includes('runs')) {
    return {
      status: 403,
      reason: 'Forbidden',
      message: `key "${record.name}" lacks the runs scope voice sessions need`,
    };
  }
  return undefined;
}

/** The agent, sample rate and transcriber the query names (`agent`, `rate`, `transcriber`). */
function sessionRequest(url: URL, config: Config): SessionRequest | Refusal {
  const catalog = listAgents(config);
  const name = url.searchParams.get('agent') ?? '';
  const agent = findAgent(catalog, name);
  if (!agent?.valid) {
    return {
      status: agent ? 422 : 404,
      reason: agent ? 'Unprocessable Entity' : 'Not Found',
      message: agent ? (agent.error ?? 'invalid spec') : unknownAgent(catalog, name).message,
    };
  }
  const rate = Number(url.searchParams.get('rate') ?? '16000');
  if (!Number.isInteger(rate) || rate < 8000 || rate > 192_000) {
    return {
      status: 400,
      reason: 'Bad Request',
      message: `rate: "${url.searchParams.get('rate')}" is not a sample rate in Hz (8000 to 192000)`,
    };
  }
  try {
    const transcriber = streamingTranscriber(
      chooseTranscriber(url.searchParams.get('transcriber') ?? undefined, 'realtime', config),
      config.env,
    );
    return { agentPath: agent.path, rate, transcriber };
  } catch (error) {
    return { status: 400, reason: 'Bad Request', message: errorMessage(error) };
  }
}

/** The client's audio, resampled for the transcriber, and when each moment of it arrived. */
function audioFeed(
  ws: WebSocket,
  controller: AbortController,
  rate: number,
  transcriber: Transcriber,
): { audio: AsyncIterable<Int16Array>; heardAt: (ms: number) => number } {
  const queue = new AsyncQueue<Int16Array | null>();
  const resampler = new Resampler(rate, transcriber.sampleRate);
  const fed: Array<{ atMs: number; wall: number }> = [];
  let fedMs = 0;
  ws.on('message', (data, binary) => {
    if (binary) {
      const bytes = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      const samples = new Int16Array(Math.floor(bytes.length / 2));
      for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(i * 2);
      queue.push(resampler.push(samples));
    } else if (String(data).includes('"end"')) queue.push(null);
  });
  ws.on('close', () => {
    queue.push(null);
    controller.abort(new Error('the client closed the voice session'));
  });
  async function* audio(): AsyncIterable<Int16Array> {
    for (;;) {
      const chunk = await queue.next();
      if (chunk === null) return;
      fed.push({ atMs: fedMs, wall: Date.now() });
      fedMs += (chunk.length * 1000) / transcriber.sampleRate;
      yield chunk;
    }
  }
  const heardAt = (ms: number) => {
    let wall = fed[0]?.wall ?? Date.now();
    for (const f of fed) {
      if (f.atMs > ms) break;
      wall = f.wall;
    }
    return wall;
  };
  return { audio: audio(), heardAt };
}

/** One voice session over an accepted socket: its turns run as one run of the agent. */
async function talk(
  ws: WebSocket,
  session: SessionRequest & { prepared: Prepared; controller: AbortController; url: URL },
  store: Store,
): Promise<void> {
  const { prepared, transcriber, url } = session;
  const send = (message: Record<string, unknown>) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(prepared.redact(JSON.stringify(message)));
  };
  const { audio, heardAt } = audioFeed(ws, session.controller, session.rate, transcriber);
  send({
    type: 'ready',
    transcriber: {
      provider: transcriber.provider,
      model: transcriber.model,
      offline: transcriber.offline ?? false,
    },
  });
  try {
    const runId = url.searchParams.get('run') ?? undefined;
    const result = await runVoiceSession({
      store,
      agent: prepared.agent,
      transcriber,
      audio,
      heardAt,
      ...(url.searchParams.get('language') ? { language: url.searchParams.get('language')! } : {}),
      ...(runId ? { runId } : {}),
      specPath: prepared.spec.path,
      ...(prepared.resolved.scripted ? { scripted: prepared.resolved.scripted } : {}),
      signal: session.controller.signal,
      onEvent: (event) => send({ type: 'event', event }),
      onLive: (update) => {
        if (update.type === 'text-delta') send({ type: 'text', text: update.text });
      },
      onPartial: (text) => send({ type: 'partial', text }),
      onUtterance: (report) => send({ type: 'utterance', ...report }),
    });
    send({
      type: 'done',
      runId: result.runId ?? null,
      status: result.last?.state.status ?? null,
    });
    ws.close(1000);
  } catch (error) {
    send({ type: 'error', message: errorMessage(error) });
    ws.close(1011);
  }
}
