/**
 * The upstream MCP server of the gateway benchmark: streamable HTTP on a free loopback port,
 * one `echo` tool. Prints its URL on stdout, then serves until killed.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';

const handler = createMcpHandler(() => {
  const server = new McpServer({ name: 'bench-upstream', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echoes its text.', inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
});

serve({ fetch: (request) => handler.fetch(request), hostname: '127.0.0.1', port: 0 }, (info) => {
  process.stdout.write(`http://127.0.0.1:${(info as AddressInfo).port}/mcp\n`);
});
