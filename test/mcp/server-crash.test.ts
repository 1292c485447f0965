import { describe, expect, it } from 'vitest';
import { McpError } from '../../src/tools/mcp/mcp-error.ts';
import { mcpTools } from '../../src/tools/mcp/mcp-tool.ts';
import { restartDelay } from '../../src/tools/mcp/restart-backoff.ts';
import { tempDir } from '../support/temp-dir.ts';
import { bin, connection, stdioConfig, testServerConfig, toolContext } from './support.ts';

describe('a server that dies', () => {
  it('killed mid-call gives the model a tool error naming the server, and the next call restarts it', async () => {
    const c = connection({
      name: 'everything',
      config: stdioConfig(bin('mcp-server-everything'), ['stdio'], tempDir()),
    });
    let killedPid: number | undefined;
    const tools = await mcpTools(c, {
      onProgress: () => {
        if (killedPid === undefined && c.pid) {
          killedPid = c.pid;
          process.kill(c.pid, 'SIGKILL');
        }
      },
    });
    const long = tools.find((t) => t.name === 'everything__trigger-long-running-operation')!;
    const error = await long
      .execute({ duration: 5, steps: 10 }, toolContext())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ kind: 'exited', server: 'everything' });
    expect((error as Error).message).toMatch(
      /^MCP server "everything" exited during tool "trigger-long-running-operation".*it starts again on the next call$/,
    );
    expect(c.state).toBe('down');

    const echo = tools.find((t) => t.name === 'everything__echo')!;
    expect(await echo.execute({ message: 'back' }, toolContext())).toBe('Echo: back');
    expect(c.starts).toBe(2);
    expect(c.pid).not.toBe(killedPid);
  });

  it('a 2026-07-28 server comes back on the same protocol version', async () => {
    const c = connection({ name: 'test', config: testServerConfig(tempDir()) });
    await c.connect();
    expect(c.protocolVersion).toBe('2026-07-28');
    const call = c.callTool('slow', { ms: 5000, tag: 'x' });
    process.kill(c.pid!, 'SIGKILL');
    await expect(call).rejects.toMatchObject({ kind: 'exited' });
    expect(await c.callTool('fail', { message: 'answering' })).toMatchObject({ isError: true });
    expect(c.protocolVersion).toBe('2026-07-28');
    expect(c.starts).toBe(2);
  });

  it('that cannot start fails with one line, and waits longer before each retry', async () => {
    const c = connection({
      name: 'broken',
      config: stdioConfig('/bin/false', [], tempDir()),
      restart: { baseDelayMs: 300, maxDelayMs: 1000 },
    });
    const first = await c.connect().catch((e: unknown) => e);
    expect(first).toMatchObject({ kind: 'unavailable', server: 'broken' });
    expect((first as Error).message).toMatch(/^MCP server "broken" did not start: [^\n]+$/);
    const started = Date.now();
    await expect(c.connect()).rejects.toMatchObject({ kind: 'unavailable' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('closed while starting, stops the server it was starting', async () => {
    const c = connection({ name: 'test', config: testServerConfig(tempDir()) });
    const connecting = c.connect();
    await c.close();
    await expect(connecting).rejects.toMatchObject({ message: 'MCP server "test" was closed' });
    expect(c.state).toBe('closed');
    expect(c.pid).toBeUndefined();
    await expect(c.listTools()).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('restart waits double after each failure in a row, up to the maximum', () => {
    const policy = { baseDelayMs: 250, maxDelayMs: 30_000 };
    expect([0, 1, 2, 3, 4].map((n) => restartDelay(n, policy))).toEqual([0, 250, 500, 1000, 2000]);
    expect(restartDelay(20, policy)).toBe(30_000);
    expect(restartDelay(5000, policy)).toBe(30_000);
  });
});
