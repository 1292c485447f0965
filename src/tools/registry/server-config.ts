import { join } from 'node:path';
import type { McpServerConfig } from '../mcp/server-config.ts';
import type { ServerEntry } from './server-entry.ts';

/**
 * How to reach a registered server: a stdio server gets only its declared variables and its
 * secrets, its own working folder under AGENTD_HOME, its roots as the only paths it may see
 * in a sandbox, and its entry's limits; an http server gets its headers and secret headers.
 */
export function serverConfigFor(
  entry: ServerEntry,
  secrets: Readonly<Record<string, string>>,
  home: string,
): McpServerConfig {
  const c = entry.containment;
  if (entry.transport.type === 'http') {
    const headers: Record<string, string> = { ...entry.headers };
    for (const name of entry.secretHeaders)
      if (secrets[name] !== undefined) headers[name] = secrets[name];
    return { transport: 'http', url: entry.transport.url, headers, callTimeoutMs: c.callTimeoutMs };
  }
  const env: Record<string, string> = { ...entry.env };
  for (const name of entry.secrets) if (secrets[name] !== undefined) env[name] = secrets[name];
  return {
    transport: 'stdio',
    command: entry.transport.command,
    args: entry.transport.args,
    env,
    cwd: join(home, 'servers', entry.name),
    containment: {
      sandbox: c.sandbox,
      network: c.network,
      paths: entry.roots.map((path) => ({ path, writable: true })),
      callTimeoutMs: c.callTimeoutMs,
      maxOutputBytes: c.maxOutputBytes,
    },
  };
}
