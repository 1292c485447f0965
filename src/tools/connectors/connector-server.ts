import { McpServer } from '@modelcontextprotocol/server';

/** The version every built-in connector reports; it moves with agentd. */
const connectorVersion = '0.1.0';

/** An empty MCP server for a built-in connector, named `agentd-<name>`. */
export function connectorServer(name: string, instructions: string): McpServer {
  return new McpServer({ name: `agentd-${name}`, version: connectorVersion }, { instructions });
}
