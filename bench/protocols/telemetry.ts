import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { createModel, defineTool, runAgent, ScriptedModel, z } from '../../src/index.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { telemetryOf } from '../../src/telemetry/traced-store.ts';
import { FakeModelServer } from '../fake-model/server.ts';
import { median, rotated } from '../stats.ts';
import { lookup as ledger } from '../tool-ledger.ts';
import { instructions, taskFor, toolDescription, toolName } from '../workloads.ts';

export type TelemetryMode = 'off' | 'local' | 'unreachable';
/** `scripted`: the replay, no I/O; `http`: workload (a) against the fake model over HTTP. */
export type TelemetryWorkload = 'scripted' | 'http';

export interface TelemetryModeResult {
  mode: TelemetryMode;
  /** Median time of a one-tool run, until the event loop turned once after it (its span work). */
  runMs: number;
  /** Median process CPU per run over a batch, with the export work and the flush at close. */
  cpuMs: number;
  /** Export requests the receiver answered (local): the spans did leave. */
  exportRequests?: number;
}

export interface TelemetryWorkloadResult {
  workload: TelemetryWorkload;
  modes: TelemetryModeResult[];
  /** Per run, against telemetry off: median run time and CPU. */
  overheadMs: { local: number; unreachable: number };
  cpuOverheadMs: { local: number; unreachable: number };
}

export interface TelemetryResults {
  runsPerRound: number;
  rounds: number;
  workloads: TelemetryWorkloadResult[];
  /** Starting telemetry and shutting it down with nothing to send: once per process (ms). */
  sessionMs: { start: number; shutdown: number };
}

const lookup = defineTool({
  name: toolName,
  description: toolDescription,
  input: z.object({ key: z.string() }),
  idempotent: true,
  execute: ({ key }) => ledger(key),
});

/** An OTLP/HTTP receiver in its own process: reads each request, counts them, answers 200. */
async function receiver(): Promise<{
  url: string;
  requests: () => Promise<number>;
  stop: () => void;
}> {
  const script = `
    const http = require('node:http');
    let bytes = 0, requests = 0;
    http.createServer((req, res) => {
      if (req.url === '/count') return res.end(JSON.stringify({ bytes, requests }));
      req.on('data', (c) => { bytes += c.length; });
      req.on('end', () => { requests++; res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(); });
    }).listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + '\\n'); });`;
  const child: ChildProcess = spawn(process.execPath, ['-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  const url = `http://127.0.0.1:${chunk.toString().trim()}`;
  return {
    url,
    requests: async () =>
      ((await (await fetch(`${url}/count`)).json()) as { requests: number }).requests,
    stop: () => child.kill(),
  };
}

/** Opening a store with telemetry on (the SDK loaded, exporters made) and closing it, empty. */
async function sessionCost(dir: string, url: string): Promise<{ start: number; shutdown: number }> {
  const starts: number[] = [];
  const stops: number[] = [];
  for (let i = 0; i < 7; i++) {
    const config = loadConfig({
      AGENTD_HOME: join(dir, `session-${i}`),
      AGENTD_TELEMETRY: 'on',
      OTEL_EXPORTER_OTLP_ENDPOINT: url,
    });
    const started = performance.now();
    const store = openStore(config);
    await telemetryOf(store);
    const ready = performance.now();
    await store.close();
    starts.push(ready - started);
    stops.push(performance.now() - ready);
  }
  return { start: median(starts.slice(1)), shutdown: median(stops.slice(1)) };
}

/** A port nothing listens on: taken, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A one-tool run's model: the scripted replay (no I/O) or the fake model over HTTP. */
async function modelFor(kind: TelemetryWorkload, baseUrl: string, i: number) {
  if (kind === 'http') {
    return createModel({
      provider: 'openai-compatible',
      id: 'bench-model',
      baseUrl,
      apiKey: 'bench',
    });
  }
  return new ScriptedModel('bench', {
    turns: [
      { text: 'Looking.', tool_calls: [{ name: toolName, input: { key: `k${i}` } }] },
      { text: 'Found it.' },
    ],
  });
}

/**
 * Runs `runs` one-tool runs one after another; each is timed from its start until the event
 * loop has turned once after it ended, so the span work it caused (done between steps) is in
 * its time, whatever the model.
 */
async function batch(
  store: Store,
  kind: TelemetryWorkload,
  baseUrl: string,
  runs: number,
  round: string,
): Promise<number[]> {
  const http = kind === 'http' ? await modelFor(kind, baseUrl, 0) : undefined;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const model = http ?? (await modelFor(kind, baseUrl, i));
    const agent = { name: 'bench', instructions, model, tools: [lookup], limits: { maxTurns: 6 } };
    const started = performance.now();
    const result = await runAgent({ store, agent, task: taskFor(`t${round}x${i}`) });
    await new Promise(setImmediate);
    times.push(performance.now() - started);
    if (result.state.status !== 'completed') throw new Error(`bench run ${result.state.status}`);
  }
  return times;
}

/**
 * The telemetry issue's benchmark: workload (a), a one-tool run against the fake
 * OpenAI-compatible model over HTTP (no added latency, durable SQLite log), with telemetry
 * off, on with a local OTLP receiver (its own process), and on with an endpoint nothing
 * listens on. Modes rotate each round; reports median run times and CPU per run (the span
 * work runs between the run's steps, so CPU is where its cost shows).
 */
export async function runTelemetryBench(options: {
  runs: number;
  rounds: number;
  log: (line: string) => void;
  server?: FakeModelServer;
}): Promise<TelemetryResults> {
  const server = options.server ?? (await FakeModelServer.start(1));
  const baseUrl = server.baseUrl('a', 0);
  const dir = mkdtempSync(join(tmpdir(), 'agentd-telemetry-bench-'));
  const local = await receiver();
  const unreachable = `http://127.0.0.1:${await closedPort()}`;
  const modes: TelemetryMode[] = ['off', 'local', 'unreachable'];
  const results: TelemetryWorkloadResult[] = [];
  try {
    for (const workload of ['scripted', 'http'] as const) {
      const samples: Record<TelemetryMode, { times: number[]; cpu: number[] }> = {
        off: { times: [], cpu: [] },
        local: { times: [], cpu: [] },
        unreachable: { times: [], cpu: [] },
      };
      let localRequests = 0;
      for (let round = -1; round < options.rounds; round++) {
        for (const mode of rotated(modes, Math.max(round, 0))) {
          const env: Record<string, string> = {
            AGENTD_HOME: join(dir, `${workload}-${mode}-${round}`),
          };
          if (mode !== 'off') {
            Object.assign(env, {
              AGENTD_TELEMETRY: 'on',
              OTEL_EXPORTER_OTLP_ENDPOINT: mode === 'local' ? local.url : unreachable,
            });
          }
          const config = loadConfig(env);
          const before = mode === 'local' ? await local.requests() : 0;
          // The SDK's start is once per process, measured apart (sessionMs).
          const store = openStore(config);
          await telemetryOf(store);
          const cpu = process.cpuUsage();
          const tag = `${workload}${mode}${round}`;
          const times = await batch(store, workload, baseUrl, options.runs, tag);
          await store.close();
          const used = process.cpuUsage(cpu);
          if (round < 0) continue; // warm-up
          samples[mode].times.push(...times);
          samples[mode].cpu.push((used.user + used.system) / 1000 / options.runs);
          if (mode === 'local') localRequests += (await local.requests()) - before;
        }
        if (round >= 0)
          options.log(`telemetry (${workload}): round ${round + 1} of ${options.rounds}`);
      }
      const result = (mode: TelemetryMode): TelemetryModeResult => ({
        mode,
        runMs: median(samples[mode].times),
        cpuMs: median(samples[mode].cpu),
        ...(mode === 'local' ? { exportRequests: localRequests } : {}),
      });
      const [off, on, down] = modes.map(result) as [
        TelemetryModeResult,
        TelemetryModeResult,
        TelemetryModeResult,
      ];
      results.push({
        workload,
        modes: [off, on, down],
        overheadMs: { local: on.runMs - off.runMs, unreachable: down.runMs - off.runMs },
        cpuOverheadMs: { local: on.cpuMs - off.cpuMs, unreachable: down.cpuMs - off.cpuMs },
      });
    }
  } finally {
    local.stop();
    if (!options.server) await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    runsPerRound: options.runs,
    rounds: options.rounds,
    workloads: results,
    sessionMs: await sessionCost(dir, local.url),
  };
}

if (import.meta.main) {
  const results = await runTelemetryBench({
    runs: Number(process.argv[2] ?? 200),
    rounds: Number(process.argv[3] ?? 5),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}
