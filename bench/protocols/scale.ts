import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.ts';
import type { RunEvent } from '../../src/core/events.ts';
import { permissiveAuthorizer } from '../../src/policy/authorizer.ts';
import { RunSuspension, runAgent } from '../../src/runtime/agent-loop.ts';
import { prepareAgent } from '../../src/runtime/prepare-agent.ts';
import { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { PostgresWorkQueue } from '../../src/store/postgres/postgres-work-queue.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { baseUrlOf, type FakeModelServer } from '../fake-model/server.ts';
import { taskFor, toolDescription, toolName } from '../workloads.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const postgresUrl =
  process.env.AGENTD_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface ScaleWorkersRow {
  workers: number;
  runs: number;
  /** Runs finished a second, from the first run's first step to the last run's end. */
  runsPerSecond: number;
  speedup: number;
}

export interface ScaleAppendRow {
  store: 'sqlite' | 'postgres';
  /** `1 event, sequential`; `1 event, 16 appenders`; `10 events a batch, sequential`. */
  mode: string;
  eventsPerSecond: number;
}

export interface ScaleResults {
  latencyMs: number;
  concurrencyPerWorker: number;
  workers: ScaleWorkersRow[];
  appends: ScaleAppendRow[];
  takeover: { leaseMs: number; samplesMs: number[]; medianMs: number };
}

/** A schema of its own on the bench database, dropped by `drop`. */
async function schemaOf(
  admin: pg.Pool,
): Promise<{ schema: string; url: string; drop: () => Promise<void> }> {
  const schema = `agentd_bench_${randomBytes(5).toString('hex')}`;
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const url = new URL(postgresUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    schema,
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}_jobs" CASCADE`);
    },
  };
}

/** An agent home whose agent calls the fake model (at `latencyMs`) and the bench's lookup tool. */
function benchHome(dir: string, origin: string, workload: string, latencyMs: number): string {
  const agent = join(dir, 'agent');
  mkdirSync(agent, { recursive: true });
  writeFileSync(
    join(agent, 'tools.ts'),
    `import { defineTool, z } from ${JSON.stringify(`${repoRoot}src/index.ts`)};
import { lookupValue } from ${JSON.stringify(`${repoRoot}bench/workloads.ts`)};
export const lookup = defineTool({
  name: ${JSON.stringify(toolName)}, description: ${JSON.stringify(toolDescription)},
  input: z.object({ key: z.string() }), idempotent: true,
  execute: ({ key }) => lookupValue(key),
});
`,
  );
  writeFileSync(
    join(agent, 'agent.yaml'),
    'name: scale\nmodel: openai-compatible/bench-model\ninstructions: Call lookup for every key, then report the total.\ntools:\n  - module: tools.ts\nlimits:\n  max_turns: 400\n',
  );
  writeFileSync(
    join(dir, 'config.yaml'),
    `providers:\n  openai-compatible:\n    base_url: ${baseUrlOf(origin, workload, latencyMs)}\n    api_key: bench\n`,
  );
  return join(agent, 'agent.yaml');
}

interface Worker {
  child: ChildProcess;
  lines: string[];
  ready: Promise<void>;
  exited: Promise<void>;
}

function startWorker(
  home: string,
  url: string,
  args: string[],
  onLine?: (line: string) => void,
): Worker {
  const env = { ...process.env, AGENTD_HOME: home, AGENTD_DATABASE_URL: url, NO_COLOR: '1' };
  const child = spawn(process.execPath, [join(repoRoot, 'bin/agentd.js'), 'worker', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let partial = '';
  let readyNow: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    readyNow = resolve;
  });
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    partial += text;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      if (line.includes('taking runs')) readyNow();
      onLine?.(line);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, lines, ready, exited };
}

/** Writes `run.started` for `count` runs of the spec and queues them, as `agentd serve` does. */
async function queueRuns(
  store: PostgresStore,
  queue: PostgresWorkQueue,
  home: string,
  spec: string,
  count: number,
): Promise<string[]> {
  const config = loadConfig({ AGENTD_HOME: home, AGENTD_DATABASE_URL: store.url });
  const prepared = await prepareAgent(spec, {}, { config, cwd: home });
  const ids: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const queued = new AbortController();
      queued.abort(new RunSuspension('queued', { quiet: true }));
      const { runId } = await runAgent({
        store,
        agent: prepared.agent,
        signal: queued.signal,
        task: taskFor(`s${randomBytes(4).toString('hex')}`),
        specPath: spec,
        cwd: home,
      });
      ids.push(runId);
    }
  } finally {
    await prepared.toolset.close();
  }
  for (const runId of ids) await queue.enqueue({ runId, reason: 'start' });
  return ids;
}

async function waitForRuns(store: Store, ids: readonly string[]): Promise<RunEvent[][]> {
  const until = Date.now() + 600_000;
  for (;;) {
    const runs = await Promise.all(ids.map((id) => store.getRun(id)));
    const open = runs.filter((r) => r?.status !== 'completed');
    if (open.length === 0) break;
    const failed = runs.find((r) => r && !['running', 'completed'].includes(r.status));
    if (failed) throw new Error(`run ${failed.id} ended ${failed.status}`);
    if (Date.now() > until) throw new Error(`${open.length} runs still open after 10 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Promise.all(ids.map((id) => store.readEvents(id)));
}

/** Runs a second with `workers` worker processes, each `concurrency` runs at once. */
async function workersOnce(
  admin: pg.Pool,
  server: FakeModelServer,
  workers: number,
  concurrency: number,
  latencyMs: number,
): Promise<{ runs: number; runsPerSecond: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'agentd-scale-'));
  const { url, schema, drop } = await schemaOf(admin);
  const store = new PostgresStore({ url: postgresUrl, schema });
  const queue = new PostgresWorkQueue(store);
  const started: Worker[] = [];
  try {
    await queue.install();
    const spec = benchHome(dir, server.origin(0), 'a', latencyMs);
    const ids = await queueRuns(store, queue, dir, spec, workers * concurrency * 4);
    for (let i = 0; i < workers; i++) {
      started.push(
        startWorker(dir, url, ['--concurrency', String(concurrency), '--lease', '10000']),
      );
    }
    const logs = await waitForRuns(store, ids);
    const first = Math.min(...logs.map((events) => Date.parse(events[1]!.at)));
    const last = Math.max(...logs.map((events) => Date.parse(events.at(-1)!.at)));
    return { runs: ids.length, runsPerSecond: ids.length / ((last - first) / 1000) };
  } finally {
    for (const w of started) w.child.kill('SIGTERM');
    await Promise.all(started.map((w) => w.exited));
    await store.close();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function event(runId: string, seq: number, type = 'tool.progress'): RunEvent {
  if (seq === 0) {
    return {
      runId,
      seq,
      at: new Date().toISOString(),
      type: 'run.started',
      data: {
        agent: 'bench',
        model: 'scripted/bench',
        task: 'append',
        instructions: '',
        tools: [],
        limits: { maxTurns: 1, maxToolRepairs: 1 },
        policy: permissiveAuthorizer.policy,
      },
    };
  }
  return {
    runId,
    seq,
    at: new Date().toISOString(),
    type,
    data: { callId: 'c', name: 'lookup', progress: seq },
  } as RunEvent;
}

/** Event appends a second into one store: one at a time, 16 appenders at once, batches of 10. */
async function appendRates(
  store: Store,
  name: 'sqlite' | 'postgres',
  events: number,
): Promise<ScaleAppendRow[]> {
  const rows: ScaleAppendRow[] = [];
  const timed = async (mode: string, count: number, work: () => Promise<void>) => {
    const t = performance.now();
    await work();
    rows.push({
      store: name,
      mode,
      eventsPerSecond: Math.round(count / ((performance.now() - t) / 1000)),
    });
  };
  const tag = randomBytes(4).toString('hex');
  await store.append([event(`run_seq_${tag}`, 0)]);
  await timed('1 event an append, one appender', events, async () => {
    for (let seq = 1; seq <= events; seq++) await store.append([event(`run_seq_${tag}`, seq)]);
  });
  const appenders = 16;
  for (let a = 0; a < appenders; a++) await store.append([event(`run_par_${tag}_${a}`, 0)]);
  await timed(`1 event an append, ${appenders} appenders`, events, async () => {
    await Promise.all(
      Array.from({ length: appenders }, async (_, a) => {
        for (let seq = 1; seq <= events / appenders; seq++) {
          await store.append([event(`run_par_${tag}_${a}`, seq)]);
        }
      }),
    );
  });
  await store.append([event(`run_batch_${tag}`, 0)]);
  await timed('10 events an append, one appender', events, async () => {
    for (let first = 1; first <= events; first += 10) {
      await store.append(
        Array.from({ length: 10 }, (_, i) => event(`run_batch_${tag}`, first + i)),
      );
    }
  });
  return rows;
}

/** From a worker's SIGKILL to the first `run.resumed` of one of its runs on another worker. */
async function takeoverOnce(
  admin: pg.Pool,
  server: FakeModelServer,
  leaseMs: number,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'agentd-scale-'));
  const { url, schema, drop } = await schemaOf(admin);
  const store = new PostgresStore({ url: postgresUrl, schema });
  const queue = new PostgresWorkQueue(store);
  const started: Worker[] = [];
  try {
    await queue.install();
    const spec = benchHome(dir, server.origin(0), 'd', 20);
    let killedAt = 0;
    let victim: Worker | undefined;
    const onLine = (w: () => Worker) => (line: string) => {
      if (victim || !/^event \S+ \d+ tool.result$/.test(line)) return;
      victim = w();
      killedAt = Date.now();
      victim.child.kill('SIGKILL');
    };
    const a: Worker = startWorker(
      dir,
      url,
      ['--events', '--lease', String(leaseMs), '--concurrency', '2'],
      onLine(() => a),
    );
    started.push(a);
    await a.ready;
    const ids = await queueRuns(store, queue, dir, spec, 2);
    const b = startWorker(dir, url, ['--lease', String(leaseMs), '--concurrency', '2']);
    started.push(b);
    const until = Date.now() + 120_000;
    for (;;) {
      for (const id of ids) {
        const resumed = (await store.readEvents(id)).find((e) => e.type === 'run.resumed');
        if (resumed && killedAt) return Date.parse(resumed.at) - killedAt;
      }
      if (Date.now() > until) throw new Error('no run was resumed within 2 minutes of the kill');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    for (const w of started) w.child.kill('SIGKILL');
    await Promise.all(started.map((w) => w.exited));
    await store.close();
    await drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Scale-out on Postgres: runs a second with 1, 2 and 4 `agentd worker` processes (each a fixed
 * number of runs at once, a one-tool run on the fake model at `latencyMs`); event appends a
 * second on Postgres against SQLite; and how long after a worker's SIGKILL its runs go on
 * elsewhere.
 */
export async function runScaleBench(options: {
  server: FakeModelServer;
  tmpDir: string;
  latencyMs?: number;
  concurrency?: number;
  appends?: number;
  log?: (line: string) => void;
}): Promise<ScaleResults> {
  const latencyMs = options.latencyMs ?? 200;
  const concurrency = options.concurrency ?? 4;
  const log = options.log ?? (() => undefined);
  const admin = new pg.Pool({ connectionString: postgresUrl, max: 2 });
  try {
    const workers: ScaleWorkersRow[] = [];
    for (const n of [1, 2, 4]) {
      const { runs, runsPerSecond } = await workersOnce(
        admin,
        options.server,
        n,
        concurrency,
        latencyMs,
      );
      const speedup = workers.length ? runsPerSecond / workers[0]!.runsPerSecond : 1;
      workers.push({
        workers: n,
        runs,
        runsPerSecond: Math.round(runsPerSecond * 10) / 10,
        speedup: Math.round(speedup * 100) / 100,
      });
      log(
        `  scale: ${n} worker(s) x ${concurrency}: ${runsPerSecond.toFixed(1)} runs/s (x${speedup.toFixed(2)})`,
      );
    }
    const events = options.appends ?? 4000;
    const appends: ScaleAppendRow[] = [];
    const sqliteDir = mkdtempSync(join(options.tmpDir, 'scale-sqlite-'));
    const sqlite = new SqliteStore({ path: join(sqliteDir, 'agentd.db'), durability: 'process' });
    try {
      appends.push(...(await appendRates(sqlite, 'sqlite', events)));
    } finally {
      await sqlite.close();
      rmSync(sqliteDir, { recursive: true, force: true });
    }
    const { schema, drop } = await schemaOf(admin);
    const postgres = new PostgresStore({ url: postgresUrl, schema });
    try {
      appends.push(...(await appendRates(postgres, 'postgres', events)));
    } finally {
      await postgres.close();
      await drop();
    }
    for (const row of appends)
      log(`  scale: appends, ${row.store}, ${row.mode}: ${row.eventsPerSecond} events/s`);
    const leaseMs = 2000;
    const samplesMs: number[] = [];
    for (let i = 0; i < 3; i++) samplesMs.push(await takeoverOnce(admin, options.server, leaseMs));
    const medianMs = [...samplesMs].sort((x, y) => x - y)[1]!;
    log(`  scale: SIGKILL to resumed elsewhere, lease ${leaseMs} ms: ${samplesMs.join(', ')} ms`);
    return {
      latencyMs,
      concurrencyPerWorker: concurrency,
      workers,
      appends,
      takeover: { leaseMs, samplesMs, medianMs },
    };
  } finally {
    await admin.end();
  }
}
