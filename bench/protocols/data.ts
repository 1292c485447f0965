// The data issue's benchmark: rows/s of a 3-column design (sampler, llm-text, llm-judge) against
// a fake model with 100 ms latency at concurrency 1, 8 and 32, against the ideal; export rows/s
// from a store of 100,000 runs; peak RSS of sampler-only generations of 100k and 1M rows (each
// in its own process), to show memory stays flat while rows stream to disk.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/config.ts';
import type { RunEvent } from '../../src/core/events.ts';
import { checkDesignTerms, resolveDesignModels } from '../../src/data/design/design-models.ts';
import { loadDesign } from '../../src/data/design/design-spec.ts';
import { compileValidators } from '../../src/data/design/generate-row.ts';
import { generate } from '../../src/data/design/generation.ts';
import { exportRuns } from '../../src/data/export.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { FakeDataModel } from '../../test/support/fake-data-model.ts';
import { workerEnv } from '../worker-process.ts';

export interface DataBenchResults {
  latencyMs: number;
  callsPerRow: number;
  design: {
    concurrency: number;
    rows: number;
    seconds: number;
    rowsPerSecond: number;
    idealRowsPerSecond: number;
    ofIdeal: number;
  }[];
  export: {
    runs: number;
    rows: number;
    seconds: number;
    rowsPerSecond: number;
    seedSeconds: number;
  };
  rss: { rows: number; seconds: number; peakRssMib: number }[];
}

const FAKE = 'openai-compatible/bench-fake';

function designText(baseUrl: string, rows: number, concurrency: number): string {
  return `name: bench
rows: ${rows}
seed: 1
concurrency: ${concurrency}
models:
  m: { model: ${FAKE}, base_url: ${baseUrl} }
columns:
  - { name: topic, type: sampler, sampler: category, params: { values: [a, b, c, d] } }
  - { name: text, type: llm-text, model: m, prompt: "Write about {{ topic }}" }
  - name: grade
    type: llm-judge
    model: m
    prompt: "Judge: {{ text }}"
    rubrics: [{ name: quality, description: good?, options: { "1": bad, "3": good } }]
`;
}

async function designRate(dir: string, fake: FakeDataModel, concurrency: number, rows: number) {
  const home = join(dir, `home-${concurrency}-${rows}`);
  mkdirSync(home, { recursive: true });
  writeFileSync(
    join(home, 'config.yaml'),
    `model_terms:\n  "${FAKE}": { distillable: "yes", source: bench, as_of: "2026-12-07" }\n`,
  );
  const file = join(dir, `design-${concurrency}-${rows}.yaml`);
  writeFileSync(file, designText(fake.baseUrl, rows, concurrency));
  const config = loadConfig({ AGENTD_HOME: home });
  const design = loadDesign(file);
  const terms = checkDesignTerms(design, config);
  const { models } = await resolveDesignModels(design, config, terms);
  const ctx = { design, models, seeds: new Map(), validators: await compileValidators(design) };
  const started = performance.now();
  const result = await generate({
    ctx,
    outDir: join(dir, `out-${concurrency}-${rows}`),
    rows,
    concurrency,
    agentdVersion: 'bench',
    secrets: [],
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 'complete') throw new Error('the design did not complete');
  return seconds;
}

function handEvents(runId: string, i: number): RunEvent[] {
  const at = new Date(Date.parse('2026-11-01T00:00:00Z') + i * 1000).toISOString();
  const usage = {
    inputTokens: 100,
    outputTokens: 20,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  };
  const data = [
    {
      type: 'run.started',
      data: {
        agent: 'bench',
        model: 'openai-compatible/qwen3:8b',
        task: `Convert ${i} miles to km.`,
        instructions: 'Use the tools.',
        tools: [{ name: 'convert', description: 'converts' }],
        limits: { maxTurns: 10, maxToolRepairs: 2 },
      },
    },
    {
      type: 'model.request',
      data: { turn: 1, model: 'openai-compatible/qwen3:8b', messageCount: 1, toolCount: 1 },
    },
    {
      type: 'model.response',
      data: {
        turn: 1,
        text: 'Converting.',
        toolCalls: [{ id: 'c1', name: 'convert', input: { value: i } }],
        usage,
        costUsd: 0,
        stopReason: 'tool_calls',
        durationMs: 5,
      },
    },
    {
      type: 'tool.call',
      data: { callId: 'c1', name: 'convert', input: { value: i }, idempotencyKey: `${runId}:3` },
    },
    {
      type: 'tool.result',
      data: {
        callId: 'c1',
        name: 'convert',
        output: `${(i * 1.609).toFixed(2)} km`,
        isError: false,
        durationMs: 1,
      },
    },
    {
      type: 'model.request',
      data: { turn: 2, model: 'openai-compatible/qwen3:8b', messageCount: 3, toolCount: 1 },
    },
    {
      type: 'model.response',
      data: {
        turn: 2,
        text: `${i} miles is ${(i * 1.609).toFixed(2)} km.`,
        toolCalls: [],
        usage,
        costUsd: 0,
        stopReason: 'end_turn',
        durationMs: 5,
      },
    },
    {
      type: 'run.finished',
      data: {
        status: 'completed',
        reason: 'final_answer',
        output: `${i} miles is ${(i * 1.609).toFixed(2)} km.`,
        turns: 2,
        usage,
        costUsd: 0,
        durationMs: 20,
      },
    },
  ];
  return data.map((e, seq) => ({ runId, seq, at, ...e }) as RunEvent);
}

async function exportRate(dir: string, runs: number, log: (line: string) => void) {
  const home = join(dir, 'export-home');
  mkdirSync(home, { recursive: true });
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  const seeded = performance.now();
  for (let i = 0; i < runs; i++) {
    await store.append(handEvents(`run_${String(i).padStart(8, '0')}`, i));
    if ((i + 1) % 20_000 === 0) log(`data: ${i + 1} runs stored`);
  }
  const seedSeconds = (performance.now() - seeded) / 1000;
  const started = performance.now();
  const { manifest } = await exportRuns({
    store,
    config: { env: {}, home },
    kind: 'sft',
    format: 'openai',
    selection: { statuses: ['completed'] },
    allowTerms: [],
    outDir: join(dir, 'export-out'),
    agentdVersion: 'bench',
    secrets: [],
  });
  const seconds = (performance.now() - started) / 1000;
  await store.close();
  return {
    runs,
    rows: manifest.counts.rows!,
    seconds,
    rowsPerSecond: manifest.counts.rows! / seconds,
    seedSeconds,
  };
}

/** Child mode: a sampler-only design of N rows, then its peak RSS on stdout. */
async function rssChild(rows: number, dir: string): Promise<void> {
  const file = join(dir, `rss-${rows}.yaml`);
  writeFileSync(
    file,
    `name: rss
rows: ${rows}
seed: 1
use: evaluation
columns:
  - { name: a, type: sampler, sampler: category, params: { values: [x, y, z] } }
  - { name: n, type: sampler, sampler: gaussian, params: { mean: 0, stddev: 1, decimals: 3 } }
  - { name: p, type: sampler, sampler: person }
  - { name: line, type: expression, template: "{{ a }} {{ n }} {{ p.first_name }} {{ p.city }}" }
`,
  );
  const design = loadDesign(file);
  const ctx = {
    design,
    models: new Map(),
    seeds: new Map(),
    validators: await compileValidators(design),
  };
  const started = performance.now();
  const result = await generate({
    ctx,
    outDir: join(dir, `rss-out-${rows}`),
    rows,
    concurrency: 8,
    agentdVersion: 'bench',
    secrets: [],
  });
  if (result.status !== 'complete') throw new Error('the generation did not complete');
  process.stdout.write(
    JSON.stringify({
      rows,
      seconds: (performance.now() - started) / 1000,
      peakRssMib: process.resourceUsage().maxRSS / 1024,
    }),
  );
}

async function rssOf(
  rows: number,
  dir: string,
): Promise<{ rows: number; seconds: number; peakRssMib: number }> {
  const child = spawn(
    process.execPath,
    [fileURLToPath(import.meta.url), '--rss', String(rows), dir],
    { env: workerEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`rss child exited ${code}: ${stderr.slice(-400)}`);
  return JSON.parse(stdout);
}

export async function runDataBench(options: {
  quick: boolean;
  log: (line: string) => void;
}): Promise<DataBenchResults> {
  const dir = mkdtempSync(join(tmpdir(), 'agentd-bench-data-'));
  const latencyMs = 100;
  const fake = await FakeDataModel.start({ latencyMs });
  try {
    const design: DataBenchResults['design'] = [];
    // warm-up: the provider package loads and the connection opens before anything is timed
    options.log('data: warm-up');
    await designRate(dir, fake, 2, 6);
    for (const concurrency of [1, 8, 32]) {
      const rows = concurrency * (options.quick ? 5 : 15);
      options.log(`data: ${rows} rows at concurrency ${concurrency}`);
      const seconds = await designRate(dir, fake, concurrency, rows);
      const ideal = concurrency / ((2 * latencyMs) / 1000);
      design.push({
        concurrency,
        rows,
        seconds,
        rowsPerSecond: rows / seconds,
        idealRowsPerSecond: ideal,
        ofIdeal: rows / seconds / ideal,
      });
    }
    const runs = options.quick ? 20_000 : 100_000;
    options.log(`data: export from ${runs} stored runs`);
    const exported = await exportRate(dir, runs, options.log);
    const rss: DataBenchResults['rss'] = [];
    for (const rows of options.quick ? [50_000, 200_000] : [100_000, 1_000_000]) {
      options.log(`data: peak RSS of a ${rows}-row generation`);
      rss.push(await rssOf(rows, dir));
    }
    return { latencyMs, callsPerRow: 2, design, export: exported, rss };
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--rss') {
  await rssChild(Number(process.argv[3]), process.argv[4]!);
}
