import { resolve } from 'node:path';
import { InMemoryTransport } from '@modelcontextprotocol/client';
import type { McpServer } from '@modelcontextprotocol/server';
import type { Config } from '../config/config.ts';
import type { ConnectorOptions } from '../definition/agent-spec.ts';
import {
  createFsServer,
  createHttpServer,
  createShellServer,
  type ShellConnectorOptions,
  shellContainment,
} from './connectors/index.ts';
import { createMemoryServer, type MemoryConnectorContext } from './connectors/memory-server.ts';
import { createSettingsServer } from './connectors/settings-server.ts';
import type { InMemoryServerConfig } from './mcp/server-config.ts';
import type { BuiltinServer } from './tool-ref.ts';

/**
 * A built-in connector as an MCP server in this process, set up from the spec's options:
 * `fs` confined to its roots (default: the folder the agent runs in), `shell` in its folder
 * with a minimal environment (sandboxed where bubblewrap is installed), `http` refusing
 * private addresses unless allowed, `settings` read only unless the spec says
 * `read_only: false`. Throws a one-line ConnectorError when the shell connector cannot be
 * contained as its options ask.
 */
export function builtinServerConfig(
  name: BuiltinServer,
  options: ConnectorOptions,
  cwd: string,
  config: Config,
  /** Who the memory connector works for (the run's agent, actor and session). */
  memory?: MemoryConnectorContext,
): InMemoryServerConfig {
  // Decided now, so a connector that cannot run as asked fails before the run starts.
  const shell = name === 'shell' ? shellOptions(options, cwd) : undefined;
  const containment = shell ? shellContainment(shell) : undefined;
  const create = (): McpServer => {
    switch (name) {
      case 'fs':
        return createFsServer({
          roots: (options.fs?.roots ?? ['.']).map((root) => resolve(cwd, root)),
        });
      case 'shell':
        return createShellServer(shell!, containment);
      case 'http':
        return createHttpServer({
          ...(options.http?.allowPrivate ? { allowPrivate: options.http.allowPrivate } : {}),
          ...(options.http?.followRedirects === false ? { followRedirects: false } : {}),
        });
      case 'settings':
        return createSettingsServer({ config, readOnly: options.settings?.readOnly ?? true });
      case 'memory':
        return createMemoryServer(config, memory);
    }
  };
  return {
    transport: 'in-memory',
    connect: async () => {
      const [client, server] = InMemoryTransport.createLinkedPair();
      await create().connect(server);
      return client;
    },
  };
}

function shellOptions(options: ConnectorOptions, cwd: string): ShellConnectorOptions {
  const shell = options.shell ?? {};
  return {
    cwd: resolve(cwd, shell.cwd ?? '.'),
    ...(shell.timeoutMs ? { timeoutMs: shell.timeoutMs } : {}),
    ...(shell.envAllowlist ? { envAllowlist: shell.envAllowlist } : {}),
    ...(shell.sandbox ? { sandbox: shell.sandbox } : {}),
    ...(shell.network !== undefined ? { network: shell.network } : {}),
    ...(shell.readOnly ? { readOnly: true } : {}),
    ...(shell.paths
      ? { paths: shell.paths.map((p) => ({ path: resolve(cwd, p.path), writable: p.writable })) }
      : {}),
  };
}
