import { resolve } from 'node:path';
import { InMemoryTransport } from '@modelcontextprotocol/client';
import type { McpServer } from '@modelcontextprotocol/server';
import type { Config } from '../config/config.ts';
import type { ConnectorOptions } from '../spec/agent-spec.ts';
import { createFsServer, createHttpServer, createShellServer } from './connectors/index.ts';
import { createSettingsServer } from './connectors/settings-server.ts';
import type { InMemoryServerConfig } from './mcp/server-config.ts';
import type { BuiltinServer } from './tool-ref.ts';

/**
 * A built-in connector as an MCP server in this process, set up from the spec's options:
 * `fs` confined to its roots (default: the folder the agent runs in), `shell` in its folder
 * with a minimal environment, `http` refusing private addresses unless allowed, `settings`
 * read only unless the spec says `read_only: false`.
 */
export function builtinServerConfig(
  name: BuiltinServer,
  options: ConnectorOptions,
  cwd: string,
  config: Config,
): InMemoryServerConfig {
  const create = (): McpServer => {
    switch (name) {
      case 'fs':
        return createFsServer({
          roots: (options.fs?.roots ?? ['.']).map((root) => resolve(cwd, root)),
        });
      case 'shell':
        return createShellServer({
          cwd: resolve(cwd, options.shell?.cwd ?? '.'),
          ...(options.shell?.timeoutMs ? { timeoutMs: options.shell.timeoutMs } : {}),
          ...(options.shell?.envAllowlist ? { envAllowlist: options.shell.envAllowlist } : {}),
        });
      case 'http':
        return createHttpServer(
          options.http?.allowPrivate ? { allowPrivate: options.http.allowPrivate } : {},
        );
      case 'settings':
        return createSettingsServer({ config, readOnly: options.settings?.readOnly ?? true });
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
