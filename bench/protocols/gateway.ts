import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SecretBox } from '../../src/config/secret-box.ts';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { McpConnection } from '../../src/tools/mcp/mcp-connection.ts';
import { Registry } from '../../src/tools/registry/registry.ts';
import { defaultContainment } from '../../src/tools/registry/server-entry.ts';
import { quantile } from '../stats.ts';

/** One path's latency, and its throughput at each number of concurrent clients. */
export interface GatewayPath {
  p50Ms: number;
  p99Ms: number;
  /** Calls per second, by number of concurrent clients. */
  callsPerSecond: Record<string, number>;
}

export interface GatewayResults {
  /** Sequential calls timed per path (after a warm-up). */
  calls: number;
  direct: GatewayPath;
  gateway: GatewayPath;
  /** Gateway minus direct, at the median and the 99th percentile. */
  overheadP50Ms: number;
  overheadP99Ms: number;
  concurrency: number[];
  /** How long each throughput measurement ran. */
  throughputSeconds: number;
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const node = process.execPath;

function started(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`${what} did not start: ${err.slice(-300)}`)),
      30_000,
    );
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      const match = pattern.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      err += text;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited ${code}: ${err.slice(-300)}`));
    });
  });
}

async function throughput(
  open: () => McpConnection,
  tool: string,
  clients: number,
  seconds: number,
): Promise<number> {
  const connections = Array.from({ length: clients }, open);
  try {
    await Promise.all(connections.map((c) => c.callTool(tool, { text: 'warm' })));
    const until = performance.now() + seconds * 1000;
    let calls = 0;
    const started = performance.now();
    await Promise.all(
      connections.map(async (c) => {
        while (performance.now() < until) {
          const result = await c.callTool(tool, { text: 'x' });
          if (result.isError)
            throw new Error(`a benchmark call failed: ${JSON.stringify(result.content)}`);
          calls++;
        }
      }),
    );
    return calls / ((performance.now() - started) / 1000);
  } finally {
    await Promise.allSettled(connections.map((c) => c.close()));
  }
}

/**
 * The serve issue's benchmark: an MCP tool call through agentd's gateway (API key, policy
 * decision, audit entry, proxy) against the same call made directly to the upstream server,
 * each in its own process on loopback HTTP: latency p50/p99 over sequential calls after a
 * warm-up, and calls per second with 1, 10 and 100 concurrent clients.
 */
export async function runGatewayBench(
  options: {
    calls?: number;
    concurrency?: number[];
    seconds?: number;
    log?: (line: string) => void;
  } = {},
): Promise<GatewayResults> {
  const calls = options.calls ?? 2000;
  const concurrency = options.concurrency ?? [1, 10, 100];
  const seconds = options.seconds ?? 3;
  const log = options.log ?? (() => {});
  const home = mkdtempSync(join(tmpdir(), 'agentd-bench-gateway-'));
  const children: ChildProcess[] = [];
  try {
    const upstream = spawn(
      node,
      [fileURLToPath(new URL('./gateway-upstream.ts', import.meta.url))],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(upstream);
    const upstreamUrl = await started(upstream, /^(http:\S+)$/m, 'the upstream server');

    const store = new SqliteStore({ path: join(home, 'agentd.db') });
    const registry = new Registry(store, SecretBox.forHome(home, {}));
    await registry.add(
      {
        name: 'up',
        source: { kind: 'url' },
        transport: { type: 'http', url: upstreamUrl },
        env: {},
        headers: {},
        secrets: [],
        secretHeaders: [],
        roots: [],
        containment: defaultContainment,
        enabled: true,
      },
      {},
    );
    await registry.setTools('up', [
      {
        name: 'echo',
        description: 'Echoes its text.',
        inputSchema: {
          type: 'object',
          properties: { text: { type: 'string' } },
          required: ['text'],
        },
      },
    ]);
    const { key } = await new ApiKeys(store).create('bench', ['mcp']);
    await store.close();
    const policies = join(home, 'policies');
    mkdirSync(policies);
    writeFileSync(
      join(policies, 'bench.cedar'),
      'permit (principal, action == Action::"up.echo", resource);\n',
    );

    const serve = spawn(
      node,
      [
        join(root, 'bin/agentd.js'),
        'serve',
        '--port',
        '0',
        '--policy',
        policies,
        '--rate-limit',
        '100000000',
      ],
      {
        env: { ...process.env, AGENTD_HOME: home, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    children.push(serve);
    const gatewayUrl = `${await started(serve, /serving on (http:\/\/\S+)/, 'agentd serve')}/mcp`;

    const direct = () =>
      new McpConnection({
        name: 'direct',
        config: { transport: 'http', url: upstreamUrl, headers: {} },
      });
    const viaGateway = () =>
      new McpConnection({
        name: 'gateway',
        config: { transport: 'http', url: gatewayUrl, headers: { authorization: `Bearer ${key}` } },
      });

    const paths = {
      direct: { open: direct, tool: 'echo' },
      gateway: { open: viaGateway, tool: 'up__echo' },
    };
    const latency: Record<string, number[]> = {};
    for (const [name, path] of Object.entries(paths)) {
      const connection = path.open();
      try {
        const run = async (n: number) => {
          const out: number[] = [];
          for (let i = 0; i < n; i++) {
            const t = performance.now();
            const result = await connection.callTool(path.tool, { text: `call ${i}` });
            out.push(performance.now() - t);
            if (result.isError)
              throw new Error(`${name}: a call failed: ${JSON.stringify(result.content)}`);
          }
          return out;
        };
        await run(Math.min(500, calls));
        latency[name] = await run(calls);
        log(`  ${name}: p50 ${quantile(latency[name]!, 0.5).toFixed(3)} ms over ${calls} calls`);
      } finally {
        await connection.close();
      }
    }
    const perSecond: Record<string, Record<string, number>> = { direct: {}, gateway: {} };
    for (const clients of concurrency) {
      for (const [name, path] of Object.entries(paths)) {
        perSecond[name]![String(clients)] = await throughput(
          path.open,
          path.tool,
          clients,
          seconds,
        );
        log(
          `  ${name}, ${clients} clients: ${perSecond[name]![String(clients)]!.toFixed(0)} calls/s`,
        );
      }
    }
    const describe = (name: string): GatewayPath => ({
      p50Ms: quantile(latency[name]!, 0.5),
      p99Ms: quantile(latency[name]!, 0.99),
      callsPerSecond: perSecond[name]!,
    });
    const result: GatewayResults = {
      calls,
      direct: describe('direct'),
      gateway: describe('gateway'),
      overheadP50Ms: quantile(latency.gateway!, 0.5) - quantile(latency.direct!, 0.5),
      overheadP99Ms: quantile(latency.gateway!, 0.99) - quantile(latency.direct!, 0.99),
      concurrency,
      throughputSeconds: seconds,
    };
    return result;
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const calls = Number(process.argv[2] ?? 2000);
  runGatewayBench({ calls, log: (line) => process.stderr.write(`${line}\n`) }).then(
    (results) => process.stdout.write(`${JSON.stringify(results, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`${(error as Error).stack ?? error}\n`);
      process.exitCode = 1;
    },
  );
}
