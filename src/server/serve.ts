import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { serve } from '@hono/node-server';
import type { Config } from '../config/config.ts';
import { AgentdError } from '../core/errors.ts';
import type { PostgresWorkQueue } from '../store/postgres/postgres-work-queue.ts';
import type { Store } from '../store/store.ts';
import { telemetryOf } from '../telemetry/traced-store.ts';
import { ApiKeys } from './api-keys.ts';
import { createApp, loopbackHosts } from './app.ts';
import { Gateway } from './gateway.ts';
import { type GatewayPolicy, gatewayAuthorizer } from './gateway-policy.ts';
import { type OAuthOptions, OAuthVerifier } from './oauth.ts';
import { RunManager } from './run-manager.ts';
import type { VoiceRoute } from './voice-route.ts';

export interface ServeOptions {
  store: Store;
  /** With a config, the server runs its agents (`/runs`); without, it only serves the registry. */
  config?: Config;
  host: string;
  port: number;
  /** More host names to answer to, beyond loopback and the bound address. */
  allowedHosts?: readonly string[];
  allowedOrigins?: readonly string[];
  maxBodyBytes?: number;
  rateLimitPerMinute?: number;
  version: string;
  log?: (line: string) => void;
  /** Where request logs go with telemetry on (JSON lines; default stdout). */
  requestLog?: { write(line: string): void };
  /** The MCP gateway's policy (with a config): without a folder, its calls are all denied. */
  gatewayPolicy?: GatewayPolicy;
  /** Accept bearer JWTs of this issuer; `audience` defaults to `http://<host>:<port>/mcp`. */
  oauth?: Omit<OAuthOptions, 'audience'> & { audience?: string };
  /**
   * For conformance tests only: `/mcp` answers requests without a key, as the caller
   * `anonymous` (policies still decide every call). Refused unless `host` is a loopback address.
   */
  gatewayOpen?: boolean;
}

/** 127.0.0.0/8, ::1 and localhost: addresses no other machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

export interface RunningServer {
  url: string;
  /** Runs resumed at start: those a previous server left suspended or interrupted. */
  resumed: string[];
  /**
   * Suspends the runs in flight (they resume on the next start), stops taking connections,
   * and waits for requests in flight to end.
   */
  close(): Promise<void>;
}

/** Starts `agentd serve`'s HTTP server; resolves once it listens. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const wildcard = options.host === '0.0.0.0' || options.host === '::';
  if (options.gatewayOpen && !isLoopback(options.host)) {
    throw new AgentdError(
      'usage',
      `--gateway-open: only on a loopback address (--host 127.0.0.1, ::1 or localhost); "${options.host}" is reachable from other machines`,
    );
  }
  const queue = options.config ? await runQueue(options.store, options.config) : undefined;
  const manager = options.config
    ? new RunManager({
        store: options.store,
        config: options.config,
        ...(options.log ? { log: options.log } : {}),
        ...(queue ? { queue } : {}),
      })
    : undefined;
  // `runs: both`: the server is also one of the workers.
  const worker =
    queue && manager && options.config?.runs === 'both'
      ? await startWorker(options, options.config, queue, manager)
      : undefined;
  const gateway = options.config
    ? new Gateway({
        store: options.store,
        config: options.config,
        authorize: await gatewayAuthorizer(
          options.config,
          options.store,
          options.gatewayPolicy ?? {},
        ),
        ...(manager ? { manager } : {}),
        version: options.version,
        ...(options.log ? { log: options.log } : {}),
      })
    : undefined;
  const oauth = options.oauth ? oauthVerifier(options, options.oauth) : undefined;
  // Online evaluation (online_eval in config.yaml): a sample of the runs that finish here is
  // scored in the background after they end.
  const online =
    manager && options.config?.onlineEval
      ? await (await import('../evals/online.ts')).startOnlineScoring(
          options.store,
          options.config,
          manager.events,
          options.log ?? ((line) => process.stderr.write(`${line}\n`)),
        )
      : undefined;
  // With telemetry on (the store was opened with it): request logs, gateway spans, /metrics.
  const session = await telemetryOf(options.store);
  const telemetry = session
    ? (await import('../telemetry/server-telemetry.ts')).serverTelemetry(
        session,
        options.requestLog ? { destination: options.requestLog } : {},
      )
    : undefined;
  const app = createApp({
    store: options.store,
    ...(telemetry ? { telemetry } : {}),
    ...(oauth ? { oauth } : {}),
    ...(gateway ? { gateway } : {}),
    ...(manager && options.config ? { runs: { config: options.config, manager } } : {}),
    keys: new ApiKeys(options.store),
    allowedHosts: [
      ...loopbackHosts,
      ...(wildcard ? [] : [options.host.includes(':') ? `[${options.host}]` : options.host]),
      ...(options.allowedHosts ?? []),
    ],
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.rateLimitPerMinute ? { rateLimitPerMinute: options.rateLimitPerMinute } : {}),
    ...(options.gatewayOpen && gateway ? { gatewayOpen: true } : {}),
    version: options.version,
  });
  let inFlight = 0;
  const server = serve({
    fetch: async (request, env) => {
      inFlight++;
      try {
        return await app.fetch(request, env);
      } finally {
        inFlight--;
      }
    },
    hostname: options.host,
    port: options.port,
  });
  await listening(server, options);
  const voice =
    manager && options.config ? voiceUpgrades(server, options, options.config) : undefined;
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const resumed = manager ? await manager.recover() : [];
  return {
    url: `http://${shown}:${address.port}`,
    resumed,
    close: async () => {
      await (await voice?.())?.close();
      await worker?.stop();
      await manager?.suspendAll('agentd serve is shutting down');
      await online?.close();
      await gateway?.close();
      await drain(server, () => inFlight);
    },
  };
}

type NodeServer = ReturnType<typeof serve>;

/** The server as one of the workers of the run queue (`runs: both`), started. */
async function startWorker(
  options: ServeOptions,
  config: Config,
  queue: PostgresWorkQueue,
  manager: RunManager,
) {
  const worker = new (await import('../worker/run-worker.ts')).RunWorker({
    store: options.store,
    queue,
    config,
    concurrency: 4,
    leaseMs: 30_000,
    ...(options.log ? { log: options.log } : {}),
    onEvent: (event) => manager.events.emit('event', event),
  });
  await worker.start();
  return worker;
}

/** The verifier of bearer JWTs; the audience is this server's `/mcp` unless given. */
function oauthVerifier(
  options: ServeOptions,
  oauth: NonNullable<ServeOptions['oauth']>,
): OAuthVerifier {
  const audience =
    oauth.audience ??
    (options.port === 0
      ? undefined
      : `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}/mcp`);
  if (!audience) {
    throw new AgentdError(
      'usage',
      "--oauth-audience: give this server's resource URL (the port is not fixed)",
    );
  }
  return new OAuthVerifier({ ...oauth, audience });
}

/** Resolves once the server listens; a port in use or an unknown address is a usage error. */
function listening(server: NodeServer, options: ServeOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new AgentdError(
              'usage',
              `${options.host}:${options.port} is already in use: pick another with --port`,
            )
          : error.code === 'EADDRNOTAVAIL'
            ? new AgentdError('usage', `--host ${options.host}: no such address on this machine`)
            : error,
      );
    });
  });
}

/**
 * Voice sessions over WebSocket (/voice), with the same keys as /runs; the route and its
 * transcribers load with the first upgrade. Returns the route once one was asked for.
 */
function voiceUpgrades(
  server: NodeServer,
  options: ServeOptions,
  config: Config,
): () => Promise<VoiceRoute> | undefined {
  let voice: Promise<VoiceRoute> | undefined;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    voice ??= import('./voice-route.ts').then((m) =>
      m.createVoiceRoute({
        store: options.store,
        config,
        keys: new ApiKeys(options.store),
        ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
        log: options.log ?? ((line) => process.stderr.write(`${line}\n`)),
      }),
    );
    voice.then((route) => route.upgrade(req, socket, head)).catch(() => socket.destroy());
  });
  return () => voice;
}

/**
 * Stops taking connections: they go once no request is being answered (event streams have
 * ended by now); a request still in flight gets up to 5 s.
 */
function drain(server: NodeServer, inFlight: () => number): Promise<void> {
  return new Promise<void>((resolve) => {
    const idle = setInterval(() => {
      if (inFlight() === 0 && 'closeAllConnections' in server) server.closeAllConnections();
    }, 20);
    const deadline = setTimeout(() => {
      if ('closeAllConnections' in server) server.closeAllConnections();
    }, 5000);
    server.close(() => {
      clearInterval(idle);
      clearTimeout(deadline);
      resolve();
    });
    if ('closeIdleConnections' in server) server.closeIdleConnections();
  });
}

/**
 * The queue the server's runs go to (`runs: workers` or `both`, on a Postgres store), installed
 * so that runs can be queued before any worker started; none when the server drives them.
 */
async function runQueue(store: Store, config: Config): Promise<PostgresWorkQueue | undefined> {
  if (!config.runs || config.runs === 'here') return undefined;
  const { PostgresStore } = await import('../store/postgres/postgres-store.ts');
  const { PostgresWorkQueue } = await import('../store/postgres/postgres-work-queue.ts');
  if (!(store instanceof PostgresStore)) {
    throw new AgentdError(
      'config_invalid',
      `runs: "${config.runs}" needs the Postgres store (set store: postgres://... or AGENTD_DATABASE_URL), or use here`,
    );
  }
  const queue = new PostgresWorkQueue(store);
  await queue.install();
  return queue;
}
