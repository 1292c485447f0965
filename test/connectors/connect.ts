import { Client, InMemoryTransport } from '@modelcontextprotocol/client';
import type { McpServer } from '@modelcontextprotocol/server';
import { onTestFinished } from 'vitest';

export interface ToolOutcome {
  text: string;
  isError: boolean;
  /** The structured content, or {} when the tool sent none. */
  structured: Record<string, unknown>;
}

export interface ConnectedClient {
  client: Client;
  /** Calls a tool as an agent would and returns its text. */
  call(name: string, args?: Record<string, unknown>): Promise<ToolOutcome>;
}

/** A real MCP client connected to `server` over the SDK's in-memory transport. */
export async function connect(server: McpServer): Promise<ConnectedClient> {
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  const client = new Client({ name: 'agentd-test', version: '0.0.0' });
  await client.connect(clientTransport);
  onTestFinished(async () => {
    await client.close();
    await server.close();
  });
  return {
    client,
    async call(name, args = {}) {
      const result = await client.callTool({ name, arguments: args });
      const text = result.content
        .map((block) => (block.type === 'text' ? block.text : `[${block.type}]`))
        .join('\n');
      return {
        text,
        isError: result.isError === true,
        structured: (result.structuredContent ?? {}) as Record<string, unknown>,
      };
    },
  };
}
