import { describe, expect, it } from 'vitest';
import type { McpListKind } from '../../src/tools/mcp/mcp-connection.ts';
import { tempDir } from '../support/temp-dir.ts';
import { connection, testServerConfig, until } from './support.ts';

/** A connection to the fixture server that counts the tools/list requests it answers. */
function counted(env: Record<string, string>) {
  let served = 0;
  const c = connection({
    name: 'test',
    config: testServerConfig(tempDir(), { env }),
    onStderr: (line) => {
      if (line === 'served tools/list') served++;
    },
  });
  /** The server's count once its stderr has caught up (lines may trail the responses). */
  const servedSettles = async (expected: number) => {
    await until(() => served >= expected);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(served).toBe(expected);
  };
  return { c, servedSettles };
}

describe('list caching', () => {
  it('2026-07-28: keeps the tool list as long as the server ttlMs says', async () => {
    const { c, servedSettles } = counted({ TOOLS_TTL_MS: '60000' });
    await c.listTools();
    await c.listTools();
    await c.listTools();
    expect(c.protocolVersion).toBe('2026-07-28');
    await servedSettles(1);
    await c.listTools({ refresh: true });
    await servedSettles(2);
  });

  it('2026-07-28: asks again every time when the server says ttlMs 0', async () => {
    const { c, servedSettles } = counted({});
    await c.listTools();
    await c.listTools();
    await servedSettles(2);
  });

  it('2026-07-28: asks again once the ttl has passed', async () => {
    const { c, servedSettles } = counted({ TOOLS_TTL_MS: '1000' });
    await c.listTools();
    await c.listTools();
    await servedSettles(1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await c.listTools();
    await servedSettles(2);
  });

  it('2025-11-25 (no hints): keeps the list until the server says it changed', async () => {
    const { c, servedSettles } = counted({ LEGACY_ONLY: '1' });
    const changes: McpListKind[] = [];
    c.onListChanged((kind) => changes.push(kind));
    expect((await c.listTools()).map((t) => t.name)).not.toContain('added');
    await c.listTools();
    expect(c.protocolVersion).toBe('2025-11-25');
    await servedSettles(1);

    await c.callTool('add-tool', { name: 'added' });
    await until(() => changes.length > 0);
    expect(changes).toEqual(['tools']);
    expect((await c.listTools()).map((t) => t.name)).toContain('added');
    await c.listTools();
    await servedSettles(2);
  });
});
