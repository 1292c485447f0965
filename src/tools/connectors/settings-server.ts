import type { McpServer } from '@modelcontextprotocol/server';
import type { Config } from '../../config/config.ts';
import { connectorServer } from './connector-server.ts';
import { registerAgentTools } from './settings-agent-tools.ts';
import { registerConfigTools } from './settings-config-tools.ts';
import { registerServerTools } from './settings-server-tools.ts';
import { settable, settingsTools } from './settings-tools.ts';

export interface SettingsConnectorOptions {
  /** agentd's configuration; config.yaml and the registry are read again on every call. */
  config: Config;
  /**
   * Only the reading tools (the default). With false, the tools that change the registry and
   * config.yaml are offered too.
   */
  readOnly?: boolean;
}

/**
 * The `settings` connector: agentd's own configuration as tools. It reads the agents this
 * machine has, the MCP servers in the registry and config.yaml; unless read-only, it can
 * enable and disable servers and change a few keys of config.yaml. It never shows a secret
 * value (API keys and server secrets appear as names or as "set"), and cannot set one.
 */
export function createSettingsServer(options: SettingsConnectorOptions): McpServer {
  const readOnly = options.readOnly ?? true;
  const configPath = options.config.configPath;
  const server = connectorServer(
    'settings',
    `agentd's own settings: the agents this machine has, the MCP servers in its registry, and ${configPath}. ${
      readOnly
        ? 'Read only: this agent can look but not change anything.'
        : `It can also enable and disable registered servers and set ${settable} in config.yaml.`
    } Secret values (API keys, server secrets) are never shown and cannot be set here.`,
  );
  const tools = settingsTools(server, { config: options.config, readOnly });
  registerAgentTools(tools);
  registerServerTools(tools);
  registerConfigTools(tools);
  return server;
}
