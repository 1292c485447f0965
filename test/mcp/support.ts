import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { McpConnection, type McpConnectionOptions } from '../../src/tools/mcp/mcp-connection.ts';
import {
  defaultStdioContainment,
  type StdioContainment,
  type StdioServerConfig,
} from '../../src/tools/mcp/server-config.ts';
import type { ToolContext } from '../../src/tools/tool.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const bin = (name: string) => join(root, 'node_modules/.bin', name);
export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
export const testServerScript = join(fixturesDir, 'test-server.ts');

/** A stdio server config with no sandbox unless asked, in `cwd`. */
export function stdioConfig(
  command: string,
  args: string[],
  cwd: string,
  options: { env?: Record<string, string>; containment?: Partial<StdioContainment> } = {},
): StdioServerConfig {
  return {
    transport: 'stdio',
    command,
    args,
    env: options.env ?? {},
    cwd,
    containment: { ...defaultStdioContainment, sandbox: 'none', ...options.containment },
  };
}

/** The fixture server (test/mcp/fixtures/test-server.ts) under agentd's Node; its folder is declared read-only. */
export function testServerConfig(
  cwd: string,
  options: { env?: Record<string, string>; containment?: Partial<StdioContainment> } = {},
): StdioServerConfig {
  const containment = options.containment ?? {};
  return stdioConfig(process.execPath, [testServerScript], cwd, {
    ...options,
    containment: {
      ...containment,
      paths: [{ path: fixturesDir, writable: false }, ...(containment.paths ?? [])],
    },
  });
}

/** A connection closed after the test. */
export function connection(options: McpConnectionOptions): McpConnection {
  const c = new McpConnection(options);
  afterEach(() => c.close());
  return c;
}

export function toolContext(signal: AbortSignal = new AbortController().signal): ToolContext {
  return { signal, runId: 'run-1', callId: 'call-1', idempotencyKey: 'run-1:7', repeated: false };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/** server-everything over streamable HTTP on a free port; stopped after the test file. */
export async function startEverythingHttp(): Promise<{ url: string; process: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, [bin('mcp-server-everything'), 'streamableHttp'], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((done, fail) => {
    let output = '';
    const timer = setTimeout(
      () => fail(new Error(`server-everything did not start: ${output}`)),
      15_000,
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening on port')) {
        clearTimeout(timer);
        done();
      }
    });
    child.on('exit', (code) => fail(new Error(`server-everything exited (${code}): ${output}`)));
  });
  return { url: `http://127.0.0.1:${port}/mcp`, process: child };
}

/** Waits for a condition the test caused; the limit only keeps a broken test from hanging. */
export function until(condition: () => boolean, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const check = () => {
      if (condition()) done();
      else if (Date.now() - started > timeoutMs) fail(new Error('condition not met in time'));
      else setTimeout(check, 20);
    };
    check();
  });
}
