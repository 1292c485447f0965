import { InMemoryTransport } from '@modelcontextprotocol/client';
import { McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { McpError } from '../../src/tools/mcp/mcp-error.ts';
import { mcpTools } from '../../src/tools/mcp/mcp-tool.ts';
import { modelToolName } from '../../src/tools/mcp/tool-name.ts';
import { connection, toolContext } from './support.ts';

describe('model-facing tool names', () => {
  it('are <server>__<tool> when that fits the providers rules', () => {
    expect(modelToolName('github', 'create_issue', new Set())).toBe('github__create_issue');
  });

  it('replace other characters, keep within 64, and stay unique', () => {
    const taken = new Set<string>();
    const dotted = modelToolName('fs', 'read.file', taken);
    const spaced = modelToolName('fs', 'read file', taken);
    expect(dotted).toMatch(/^fs__read_file_[0-9a-f]{6}$/);
    expect(spaced).toMatch(/^fs__read_file_[0-9a-f]{6}$/);
    expect(dotted).not.toBe(spaced);
    const long = modelToolName('server', 'x'.repeat(100), taken);
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^[a-zA-Z0-9_-]+$/);
    expect(modelToolName('server', 'x'.repeat(100), new Set())).toBe(long); // deterministic
    const again = modelToolName('fs', 'read.file', taken);
    expect(again).not.toBe(dotted);
    expect(again).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
  });
});

/** An MCP server in this process, reached through the in-memory transport (built-in connectors). */
function inMemoryServer() {
  const server = new McpServer(
    { name: 'local', version: '1.0.0' },
    { capabilities: { tools: {} } },
  );
  server.registerTool(
    'lookup',
    {
      description: 'Looks a key up.',
      inputSchema: z.object({ key: z.string() }),
      outputSchema: z.object({ key: z.string(), value: z.number() }),
      annotations: { readOnlyHint: true },
    },
    async ({ key }) => ({
      content: [{ type: 'text', text: `found ${key}` }],
      structuredContent: { key, value: 42 },
    }),
  );
  server.registerTool(
    'delete',
    {
      description: 'Deletes a key.',
      inputSchema: z.object({ key: z.string() }),
      annotations: { destructiveHint: true, idempotentHint: false },
    },
    async ({ key }) => ({
      content: [{ type: 'text', text: `cannot delete ${key}:\nit is locked` }],
      isError: true,
    }),
  );
  server.registerTool('odd.name.v2', { description: 'Has a name providers refuse.' }, async () => ({
    content: [{ type: 'text', text: 'odd' }],
  }));
  return connection({
    name: 'local',
    config: {
      transport: 'in-memory',
      connect: async () => {
        const [client, serverSide] = InMemoryTransport.createLinkedPair();
        await server.connect(serverSide);
        return client;
      },
    },
  });
}

describe('an MCP tool as an agentd tool', () => {
  it('takes the description and schema from the server, and idempotency from its hints', async () => {
    const tools = new Map((await mcpTools(inMemoryServer())).map((t) => [t.name, t]));
    const lookup = tools.get('local__lookup')!;
    expect(lookup.description).toBe('Looks a key up.');
    expect(lookup.inputSchema).toMatchObject({
      type: 'object',
      properties: { key: { type: 'string' } },
      required: ['key'],
    });
    expect(lookup.idempotent).toBe(true);
    expect(lookup.checksIdempotencyKey).toBe(false);
    expect(tools.get('local__delete')?.idempotent).toBe(false);
    expect([...tools.keys()].find((name) => name.startsWith('local__odd_name_v2_'))).toBeDefined();
  });

  it('returns the text and the structured content the text does not already carry', async () => {
    const [lookup] = await mcpTools(inMemoryServer());
    expect(await lookup!.execute({ key: 'a' }, toolContext())).toBe(
      'found a\n{"key":"a","value":42}',
    );
  });

  it('throws an isError result with the server text, for the model to read', async () => {
    const tools = await mcpTools(inMemoryServer());
    const del = tools.find((t) => t.name === 'local__delete')!;
    const error = await del.execute({ key: 'k' }, toolContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({
      kind: 'tool_error',
      server: 'local',
      message: 'cannot delete k:\nit is locked',
    });
  });

  it('keeps names unique across servers given the same set', async () => {
    const taken = new Set(['local__lookup']);
    const tools = await mcpTools(inMemoryServer(), { taken });
    expect(tools.map((t) => t.name)).not.toContain('local__lookup');
    expect(taken.size).toBe(4);
  });
});
