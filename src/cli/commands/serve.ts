import { resolve } from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { startServer } from '../../server/serve.ts';
import { openStore } from '../../store/open-store.ts';
import { paint } from '../format.ts';

export interface ServeFlags {
  host: string;
  port: number;
  allowedHost: string[];
  allowedOrigin: string[];
  rateLimit?: number;
  maxBody?: number;
  policy?: string;
  policyMode?: 'enforce' | 'log_only';
  oauthIssuer?: string;
  oauthAudience?: string;
  oauthJwks?: string;
  gatewayOpen?: boolean;
}

/** The scopes a person needs to see every page of the console. */
const consoleScopes = 'runs,approvals,teams,policies,registry,audit,memory,evals';

/** `agentd serve`: the HTTP API until SIGINT or SIGTERM, then a graceful stop. */
export async function serveCommand(flags: ServeFlags, version: string): Promise<number> {
  const config = loadConfig();
  const store = openStore(config, { prometheus: true });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      store,
      config,
      gatewayPolicy: {
        ...(flags.policy ? { dir: resolve(flags.policy) } : {}),
        ...(flags.policyMode ? { mode: flags.policyMode } : {}),
      },
      ...(flags.oauthIssuer
        ? {
            oauth: {
              issuer: flags.oauthIssuer,
              ...(flags.oauthAudience ? { audience: flags.oauthAudience } : {}),
              ...(flags.oauthJwks ? { jwksUrl: flags.oauthJwks } : {}),
            },
          }
        : {}),
      ...(flags.gatewayOpen ? { gatewayOpen: true } : {}),
      host: flags.host,
      port: flags.port,
      allowedHosts: flags.allowedHost,
      allowedOrigins: flags.allowedOrigin,
      ...(flags.rateLimit ? { rateLimitPerMinute: flags.rateLimit } : {}),
      ...(flags.maxBody ? { maxBodyBytes: flags.maxBody } : {}),
      version,
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  process.stdout.write(
    `agentd ${version} serving on ${paint('bold', server.url, process.stdout)}  (health: /health, API: /openapi.json, MCP registry: /v0/servers; keys: agentd keys create)\n`,
  );
  process.stdout.write(
    `console: open ${server.url}/ and sign in with an API key (make one with: agentd keys create --name me --scopes ${consoleScopes})\n`,
  );
  if (flags.gatewayOpen) {
    process.stdout.write(
      `${paint('yellow', 'gateway open', process.stdout)}: ${server.url}/mcp answers without a key, as "anonymous" (for conformance tests only)\n`,
    );
  }
  if (server.resumed.length) {
    process.stdout.write(
      `resumed ${server.resumed.length} run(s) the last server left: ${server.resumed.join(', ')}\n`,
    );
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  process.stdout.write(
    `${signal}: stopping (runs in flight are suspended and resume on the next start)\n`,
  );
  await server.close();
  await store.close();
  return 0;
}
