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
    const origin = req.headers.origin;
    if (
      origin &&
      !(options.allowedOrigins ?? []).includes(origin) &&
      new URL(origin).host !== req.headers.host
    ) {
      refuse(
        socket,
        403,
        'Forbidden',
        `origin ${origin} is not allowed: start agentd serve with --allowed-origin ${origin}`,
      );
      return;
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const key =
      bearer ?? (offered.includes(protocol) ? offered.find((p) => p !== protocol) : undefined);
    if (!key) {
      refuse(
        socket,
        401,
        'Unauthorized',
        `this route needs an API key: send "Authorization: Bearer <key>" or the subprotocols "${protocol}, <key>" (create one with agentd keys create)`,
      );
      return;
    }
    const record = await options.keys.verify(key);
    if (!record) {
      refuse(socket, 401, 'Unauthorized', 'the API key is unknown or revoked');
      return;
    }
    if (!record.scopes.includes('runs')) {
      refuse(
        socket,
        403,
        'Forbidden',
        `key "${record.name}" lacks the runs scope voice sessions need`,
      );
      return;
    }
    const catalog = listAgents(options.config);
    const name = url.searchParams.get('agent') ?? '';
    const agent = findAgent(catalog, name);
    if (!agent?.valid) {
      refuse(
        socket,
        agent ? 422 : 404,
        agent ? 'Unprocessable Entity' : 'Not Found',
        agent ? (agent.error ?? 'invalid spec') : unknownAgent(catalog, name).message,
      );
      return;
    }
    const rate = Number(url.searchParams.get('rate') ?? '16000');
    if (!Number.isInteger(rate) || rate < 8000 || rate > 192_000) {
      refuse(
        socket,
        400,
        'Bad Request',
        `rate: "${url.searchParams.get('rate')}" is not a sample rate in Hz (8000 to 192000)`,
      );
      return;
    }
    let transcriber: ReturnType<typeof streamingTranscriber>;
    try {
      transcriber = streamingTranscriber(
        chooseTranscriber(
          url.searchParams.get('transcriber') ?? undefined,
          'realtime',
          options.config,
        ),
        options.config.env,
      );
    } catch (error) {
      refuse(socket, 400, 'Bad Request', errorMessage(error));
      return;
    }
    const prepared = await prepareAgent(
      agent.path,
      {},
      { config: options.config, onNotice: (n) => options.log(`agentd serve: voice: ${n}`) },
    );
    wss.handleUpgrade(req, socket, head, (ws) => {
      const controller = new AbortController();
      const entry = { controller, done: Promise.resolve() };
      sessions.add(entry);
      entry.done = talk(ws, controller, prepared, transcriber, rate, url).finally(() => {
        sessions.delete(entry);
        return prepared.toolset.close();
      });
    });
  }

  async function talk(
    ws: WebSocket,
    controller: AbortController,
    prepared: Awaited<ReturnType<typeof prepareAgent>>,
    transcriber: ReturnType<typeof streamingTranscriber>,
    rate: number,
    url: URL,
  ): Promise<void> {
    const send = (message: Record<string, unknown>) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(prepared.redact(JSON.stringify(message)));
    };
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
        store: options.store,
        agent: prepared.agent,
        transcriber,
        audio: audio(),
        heardAt: (ms) => {
          let wall = fed[0]?.wall ?? Date.now();
          for (const f of fed) {
            if (f.atMs > ms) break;
            wall = f.wall;
          }
          return wall;
        },
        ...(url.searchParams.get('language')
          ? { language: url.searchParams.get('language')! }
          : {}),
        ...(runId ? { runId } : {}),
        specPath: prepared.spec.path,
        ...(prepared.resolved.scripted ? { scripted: prepared.resolved.scripted } : {}),
        signal: controller.signal,
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
