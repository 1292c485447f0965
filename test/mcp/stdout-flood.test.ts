import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { StdioTransport } from '../../src/tools/mcp/stdio-transport.ts';
import { BoundedLines, StdoutReader } from '../../src/tools/mcp/stdout-reader.ts';
import { tempDir } from '../support/temp-dir.ts';
import { connection, fixturesDir, stdioConfig, until } from './support.ts';

const floodServer = join(fixturesDir, 'flood-server.ts');
const limit = 200_000;

function floodConfig(cwd: string, mode: string) {
  return stdioConfig(process.execPath, [floodServer], cwd, {
    env: { FLOOD: mode },
    containment: { maxOutputBytes: limit },
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a server that floods stdout', () => {
  for (const [mode, kind, says] of [
    ['line', 'output_limit', 'sent a message over the output limit of 200,000 bytes'],
    [
      'garbage',
      'output_flood',
      'wrote more than 200,000 bytes to stdout that are not MCP messages',
    ],
    [
      'newlines',
      'output_flood',
      'wrote more than 200,000 bytes to stdout that are not MCP messages',
    ],
    [
      'invalid',
      'output_flood',
      'wrote more than 200,000 bytes to stdout that are not MCP messages',
    ],
  ] as const) {
    it(`(${mode}) is stopped, and the call fails with one line naming the server and the limit`, async () => {
      const cwd = tempDir();
      const c = connection({ name: 'flood', config: floodConfig(cwd, mode) });
      expect((await c.listTools()).map((t) => t.name)).toEqual(['flood']);
      const pid = Number(readFileSync(join(cwd, 'pid'), 'utf8'));
      const error = (await c.callTool('flood', {}).catch((e: unknown) => e)) as Error;
      expect(error).toMatchObject({ name: 'McpError', kind, server: 'flood' });
      expect(error.message).toContain('MCP server "flood": ');
      expect(error.message).toContain(says);
      expect(error.message).toMatch(/the server was stopped and starts again on the next call/);
      expect(error.message).not.toContain('\n');
      // It ignores SIGTERM: only the SIGKILL that follows ends it.
      await until(() => !alive(pid), 30_000);
      // The next use starts it again.
      expect((await c.listTools({ refresh: true })).map((t) => t.name)).toEqual(['flood']);
      expect(c.starts).toBe(2);
    }, 60_000);
  }

  it('that dies mid-call, with half a message written, fails the call as exited', async () => {
    const c = connection({ name: 'flood', config: floodConfig(tempDir(), 'die') });
    const error = (await c.callTool('flood', {}).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ name: 'McpError', kind: 'exited', server: 'flood' });
    expect(error.message).toMatch(/^MCP server "flood" exited during tool "flood".*next call$/);
  }, 30_000);

  it('never holds more of it than the line limit, however much it writes', async () => {
    const cwd = tempDir();
    const transport = new StdioTransport({
      command: process.execPath,
      args: [floodServer],
      env: { FLOOD: 'line', PATH: process.env.PATH ?? '' },
      cwd,
      stderr: 'pipe',
      maxLineBytes: limit,
      maxGarbageBytes: limit,
    });
    const client = new Client({ name: 'test', version: '1' });
    try {
      await client.connect(transport);
      await client.callTool({ name: 'flood', arguments: {} }).catch((e: unknown) => e);
      expect(transport.flood).toEqual({ kind: 'line', limit });
      expect(transport.peakHeldBytes).toBeLessThanOrEqual(limit);
      expect(transport.peakHeldBytes).toBeGreaterThan(limit / 2);
      const pid = Number(readFileSync(join(cwd, 'pid'), 'utf8'));
      await until(() => !alive(pid), 30_000);
    } finally {
      await client.close();
    }
  }, 30_000);
});

describe('StdoutReader', () => {
  const message = (id: number) =>
    Buffer.from(`${JSON.stringify({ jsonrpc: '2.0', id, result: {} })}\n`);

  it('splits messages across chunks, and skips a little noise between them', () => {
    const reader = new StdoutReader({ maxLineBytes: 100, maxGarbageBytes: 50 });
    const whole = Buffer.concat([message(1), Buffer.from('a log line\n\n'), message(2)]);
    const ids: unknown[] = [];
    for (let i = 0; i < whole.length; i += 7) {
      const read = reader.push(whole.subarray(i, i + 7));
      expect(read.flood).toBeUndefined();
      for (const m of read.messages) ids.push((m as { id: number }).id);
    }
    expect(ids).toEqual([1, 2]);
    expect(reader.held).toBe(0);
  });

  it('counts garbage only since the last message', () => {
    const reader = new StdoutReader({ maxLineBytes: 100, maxGarbageBytes: 30 });
    for (let i = 0; i < 20; i++) {
      expect(reader.push(Buffer.from('noise noise\n')).flood).toBeUndefined();
      expect(reader.push(Buffer.from('more noise\n')).flood).toBeUndefined();
      expect(reader.push(message(i)).messages).toHaveLength(1);
    }
    expect(reader.push(Buffer.from('x\n'.repeat(16))).flood).toEqual({
      kind: 'garbage',
      limit: 30,
    });
  });

  it('gives up on a line past the limit, holding no more than the limit, and takes nothing after', () => {
    const reader = new StdoutReader({ maxLineBytes: 1000, maxGarbageBytes: 1000 });
    let flood: unknown;
    for (let i = 0; i < 100 && !flood; i++) flood = reader.push(Buffer.alloc(64, 0x61)).flood;
    expect(flood).toEqual({ kind: 'line', limit: 1000 });
    expect(reader.peakHeld).toBeLessThanOrEqual(1000);
    expect(reader.held).toBe(0);
    expect(reader.push(message(1))).toMatchObject({ messages: [], flood: { kind: 'line' } });
  });

  it('reports JSON that is not JSON-RPC, and counts it as garbage', () => {
    const reader = new StdoutReader({ maxLineBytes: 1000, maxGarbageBytes: 1000 });
    const read = reader.push(Buffer.from('{"hello":1}\n'));
    expect(read.messages).toEqual([]);
    expect(read.invalid).toHaveLength(1);
  });
});

describe('BoundedLines', () => {
  it('cuts a line longer than the limit and drops the rest of it', () => {
    const lines = new BoundedLines(10);
    expect(lines.push('short\nlong')).toEqual(['short']);
    expect(lines.push('x'.repeat(100))).toEqual(['longxxxxxx']);
    expect(lines.held).toBe(0);
    expect(lines.push('y'.repeat(1000))).toEqual([]);
    expect(lines.held).toBe(0);
    expect(lines.push('z\nnext\n')).toEqual(['next']);
  });
});
