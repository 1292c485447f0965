import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { AgentdError } from '../core/errors.ts';
import type { Store } from '../store/store.ts';
import { ApiKeys } from './api-keys.ts';
import { createApp, loopbackHosts } from './app.ts';

export interface ServeOptions {
  store: Store;
  host: string;
  port: number;
  /** More host names to answer to, beyond loopback and the bound address. */
  allowedHosts?: readonly string[];
  allowedOrigins?: readonly string[];
  maxBodyBytes?: number;
  rateLimitPerMinute?: number;
  version: string;
}

export interface RunningServer {
  url: string;
  /** Stops taking connections and waits for requests in flight to end. */
  close(): Promise<void>;
}

/** Starts `agentd serve`'s HTTP server; resolves once it listens. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const wildcard = options.host === '0.0.0.0' || options.host === '::';
  const app = createApp({
    store: options.store,
    keys: new ApiKeys(options.store),
    allowedHosts: [
      ...loopbackHosts,
      ...(wildcard ? [] : [options.host.includes(':') ? `[${options.host}]` : options.host]),
      ...(options.allowedHosts ?? []),
    ],
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
    ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.rateLimitPerMinute ? { rateLimitPerMinute: options.rateLimitPerMinute } : {}),
    version: options.version,
  });
  const server = serve({ fetch: app.fetch, hostname: options.host, port: options.port });
  await new Promise<void>((resolve, reject) => {
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
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      }),
  };
}
