import { type FrameworkName, frameworks, peerNames } from '../frameworks/catalog.ts';
import type { Results } from '../results.ts';
import { median } from '../stats.ts';
import type { FrameworkSummary, WorkloadSummary } from '../summarize.ts';
import { type WorkloadName, workloadNames, workloads } from '../workloads.ts';
import { kib, mib, ms, percent, rate, ratio } from './format.ts';

type Pick = (s: FrameworkSummary) => number | undefined;

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function header(cells: string[], align: string[]): string {
  return `${row(cells)}\n${row(align)}`;
}

/** The best peer's figure: the lowest, or the highest where higher is better. */
function bestPeer(results: Results, pick: Pick, higherIsBetter = false): number | undefined {
  const values = peerNames
    .map((name) => results.peers?.summary[name])
    .filter((s): s is FrameworkSummary => s !== undefined)
    .map(pick)
    .filter((v): v is number => v !== undefined && Number.isFinite(v));
  if (values.length === 0) return undefined;
  return higherIsBetter ? Math.max(...values) : Math.min(...values);
}

function label(name: FrameworkName): string {
  return name === 'agentd' ? '**agentd**' : frameworks[name].label;
}

function shown(results: Results): FrameworkName[] {
  return results.frameworks.filter((name) => results.peers?.summary[name]);
}

function workloadHeading(w: WorkloadName): string {
  return `(${w}) ${workloads[w].title}`;
}

const warm =
  (w: WorkloadName, key: keyof NonNullable<WorkloadSummary['warm']>): Pick =>
  (s) =>
    s.workloads[w]?.warm?.[key];
const cold =
  (w: WorkloadName, key: keyof NonNullable<WorkloadSummary['cold']>): Pick =>
  (s) =>
    s.workloads[w]?.cold?.[key];

/** One table: a row per framework, a column per pick; ratios against the best peer. */
function table(
  results: Results,
  columns: {
    title: string;
    pick: Pick;
    format: (v: number | undefined) => string;
    compare?: 'low' | 'high';
  }[],
): string {
  const lines = [
    header(['framework', ...columns.map((c) => c.title)], ['---', ...columns.map(() => '---:')]),
  ];
  const best = columns.map((c) =>
    c.compare ? bestPeer(results, c.pick, c.compare === 'high') : undefined,
  );
  for (const name of shown(results)) {
    const summary = results.peers!.summary[name]!;
    lines.push(
      row([
        name === 'raw' ? `_${frameworks.raw.label} (baseline)_` : label(name),
        ...columns.map((c, i) => {
          const value = c.pick(summary);
          return c.format(value) + (name === 'raw' ? '' : ratio(value, best[i]));
        }),
      ]),
    );
  }
  return lines.join('\n');
}

export function headline(results: Results): string {
  return table(
    results,
    workloadNames.map((w) => ({
      title: `${workloadHeading(w)} p50`,
      pick: warm(w, 'overheadP50'),
      format: ms,
      compare: 'low' as const,
    })),
  );
}

function repetitions(results: Results): string {
  const { plan } = results;
  const runs = (r: Record<string, number>) => workloadNames.map((w) => `${w}: ${r[w]}`).join(', ');
  return [
    `- cold: ${plan.cold.rounds} round(s) of a fresh process per framework and workload, timing its first runs (${runs(plan.cold.runs)})`,
    `- warm: ${results.peers?.warmupRuns ?? '–'} warm-up runs per process (${runs(plan.warm.warmup)}), then ${plan.warm.rounds} rounds of sequential runs (${runs(plan.warm.runs)}); figures are medians over rounds; rounds rotate the order of frameworks`,
    `- runs per second: ${plan.warm.throughputRounds} round(s) of ${runs(plan.warm.throughputRuns)} runs with ${runs(plan.warm.throughputConcurrency)} in flight, median over rounds`,
    `- memory: one fresh process per framework and level (${plan.concurrency.levels.join(', ')} concurrent runs of workload ${plan.concurrency.workload}, the model answering after ${plan.concurrency.latencyMs} ms), ${plan.concurrency.parallel} tests at a time (so their wall times, in the JSON, are not comparable); every run checked`,
  ].join('\n');
}

/** The whole report: every table, the versions and the configurations. */
export function markdownReport(results: Results, chartFile?: string): string {
  const out: string[] = [];
  const { machine } = results;
  out.push(`# agentd benchmarks, ${results.date.slice(0, 10)}`);
  out.push('');
  out.push(
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}. Plan: ${results.plan.name}. Suites: ${results.suites.join(', ')}. Wall time ${Math.round(results.wallSeconds)} s.`,
  );
  out.push('');
  out.push(
    `Versions: ${Object.entries(results.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
  );
  out.push('');
  if (results.failures.length > 0) {
    out.push(`**${results.failures.length} check(s) failed** (figures involved are not valid):`);
    for (const failure of results.failures.slice(0, 20))
      out.push(`- ${failure.replace(/\n/g, ' ')}`);
    out.push('');
  }
  if (results.peers) {
    const s = results.peers.summary;
    const any = (f: (x: FrameworkSummary) => unknown) =>
      Object.values(s).some((x) => x && f(x) !== undefined);
    if (any((x) => x.workloads.a?.warm)) {
      out.push("## Framework overhead per run, warm (ms; the fake model's own time subtracted)");
      out.push('');
      if (chartFile) out.push(`![warm overhead per run](${chartFile})\n`);
      out.push('Median per run; in brackets, against the fastest peer (×0.5 = half its overhead).');
      out.push('');
      out.push(headline(results));
      out.push('');
      out.push('p99 per run:');
      out.push('');
      out.push(
        table(
          results,
          workloadNames.map((w) => ({
            title: `${workloadHeading(w)} p99`,
            pick: warm(w, 'overheadP99'),
            format: ms,
            compare: 'low' as const,
          })),
        ),
      );
      out.push('');
      out.push("CPU per run (the framework's process, user and system, ms; median over rounds):");
      out.push('');
      out.push(
        table(
          results,
          workloadNames.map((w) => ({
            title: `${workloadHeading(w)} CPU`,
            pick: warm(w, 'cpuPerRun'),
            format: ms,
            compare: 'low' as const,
          })),
        ),
      );
      out.push('');
      out.push("p99.9 per run (over every round's runs together):");
      out.push('');
      out.push(
        table(
          results,
          workloadNames.map((w) => ({
            title: `${workloadHeading(w)} p99.9`,
            pick: warm(w, 'overheadP999'),
            format: ms,
            compare: 'low' as const,
          })),
        ),
      );
      out.push('');
      const model = workloadNames
        .map((w) => `${w} ${ms(s.raw?.workloads[w]?.warm?.runP50)} ms`)
        .join(', ');
      out.push(`The fake model's own time per run (the raw loop's median): ${model}.`);
      out.push('');
      out.push('## Runs per second, one process, warm');
      out.push('');
      out.push(
        table(
          results,
          workloadNames.map((w) => ({
            title: workloadHeading(w),
            pick: warm(w, 'runsPerSecond'),
            format: rate,
            compare: 'high' as const,
          })),
        ),
      );
      out.push('');
      out.push(
        '## Heap growth per run, warm (heap used after a full GC, after minus before a batch)',
      );
      out.push('');
      out.push(
        table(
          results,
          workloadNames.map((w) => ({
            title: workloadHeading(w),
            pick: warm(w, 'heapPerRun'),
            format: kib,
          })),
        ),
      );
      out.push('');
    }
    if (any((x) => x.workloads.a?.cold)) {
      out.push('## Cold: a fresh process, its first runs (overhead per run, ms)');
      out.push('');
      out.push(
        "Each run's time minus the fake model's own time (the warm raw loop's median), so the raw loop's row is what a fresh Node process pays for fetch itself.",
      );
      out.push('');
      out.push(
        table(results, [
          {
            title: 'start → framework loaded',
            pick: (x) => x.importMs,
            format: ms,
            compare: 'low',
          },
          {
            title: 'start → first model request',
            pick: (x) => x.firstRequestMs,
            format: ms,
            compare: 'low',
          },
          ...workloadNames.flatMap((w) => [
            {
              title: `(${w}) p50`,
              pick: cold(w, 'overheadP50'),
              format: ms,
              compare: 'low' as const,
            },
            {
              title: `(${w}) p99`,
              pick: cold(w, 'overheadP99'),
              format: ms,
              compare: 'low' as const,
            },
          ]),
        ]),
      );
      out.push('');
    }
    const levels = results.plan.concurrency.levels;
    if (any((x) => Object.keys(x.concurrency).length > 0 || undefined)) {
      out.push(
        `## Peak RSS with many runs waiting on a slow model (workload ${results.plan.concurrency.workload}, ${results.plan.concurrency.latencyMs} ms before each answer)`,
      );
      out.push('');
      out.push(
        'N runs started at once; the model holds every first answer until all N have asked, so all N are waiting at the same moment. Every run checked.',
      );
      out.push('');
      out.push(
        table(results, [
          {
            title: 'idle (loaded, one run done)',
            pick: (x) => x.concurrency[levels[0]!]?.rssIdle,
            format: mib,
          },
          ...levels.map((n) => ({
            title: `${n.toLocaleString('en')} runs: peak RSS`,
            pick: (x: FrameworkSummary) => x.concurrency[n]?.rssPeak,
            format: mib,
            compare: 'low' as const,
          })),
        ]),
      );
      out.push('');
    }
    out.push('Repetitions:');
    out.push('');
    out.push(repetitions(results));
    out.push('');
  }
  if (results.startup) {
    out.push('## Start-up: process start to the first model request');
    out.push('');
    out.push(
      "Each command runs workload a to its end; medians of commands 2 to N (the first fills Node's compile cache, as a user's first run does).",
    );
    out.push('');
    out.push(
      '| install | command | commands | first request, ms | first command, ms | whole run, ms | `--version`, ms |',
    );
    out.push('|---|---|---:|---:|---:|---:|---:|');
    for (const install of results.startup.installs) {
      const later = install.samples.slice(1);
      out.push(
        `| ${install.kind === 'package' ? 'built package (npm pack, installed)' : 'checkout (TypeScript sources)'} | \`${install.command}\` | ${install.samples.length} | ${ms(median(later.map((x) => x.firstRequestMs)))} | ${ms(install.samples[0]?.firstRequestMs)} | ${ms(median(later.map((x) => x.exitMs)))} | ${ms(median(later.map((x) => x.versionMs)))} |`,
      );
    }
    out.push('');
  }
  if (results.steps) {
    out.push(`## Per-step overhead over a ${results.steps.steps.toLocaleString('en')}-step run`);
    out.push('');
    out.push(stepsTable(results));
    out.push('');
  }
  if (results.longRun) {
    const l = results.longRun;
    out.push(`## One long agentd run: ${l.steps.toLocaleString('en')} steps, compacting`);
    out.push('');
    out.push(
      `\`bench/protocols/long-run.ts\`: a scripted model (no HTTP, no latency), one tool call a step, the durable log on, runtime compaction within a ${l.contextWindow.toLocaleString('en')}-token window (${l.compactions} compactions). Median step time near step 10: ${ms(l.earlyStepMs)} ms; over the last 100 steps: ${ms(l.lateStepMs)} ms (×${l.ratio.toFixed(2)}). RSS ${l.earlyRssMb.toFixed(0)} MB at step 10, ${l.lateRssMb.toFixed(0)} MB at the end; heap ${l.earlyHeapMb.toFixed(1)} MB and ${l.lateHeapMb.toFixed(1)} MB.`,
    );
    out.push('');
  }
  if (results.gateway) {
    const g = results.gateway;
    out.push('## MCP gateway: a tool call through /mcp against the same call direct');
    out.push('');
    out.push(
      `\`bench/protocols/gateway.ts\`: an echo tool of an MCP server over streamable HTTP, called by an MCP client directly and through \`agentd serve\`'s gateway (API key, Cedar decision, audit entry, proxy), each of the three in its own process on loopback. ${g.calls.toLocaleString('en')} sequential calls per path after a warm-up; throughput over ${g.throughputSeconds} s per client count.`,
    );
    out.push('');
    const clients = g.concurrency.map((n) => `calls/s, ${n} client${n === 1 ? '' : 's'}`);
    out.push(`| path | p50 ms | p99 ms | ${clients.join(' | ')} |`);
    out.push(`|---|---:|---:|${g.concurrency.map(() => '---:').join('|')}|`);
    for (const [name, path] of [
      ['direct', g.direct],
      ['through the gateway', g.gateway],
    ] as const) {
      out.push(
        `| ${name} | ${path.p50Ms.toFixed(2)} | ${path.p99Ms.toFixed(2)} | ${g.concurrency.map((n) => Math.round(path.callsPerSecond[String(n)] ?? 0).toLocaleString('en')).join(' | ')} |`,
      );
    }
    out.push('');
    out.push(
      `Gateway overhead: ${g.overheadP50Ms.toFixed(2)} ms at the median, ${g.overheadP99Ms.toFixed(2)} ms at the 99th percentile.`,
    );
    out.push('');
  }
  if (results.console) {
    const c = results.console;
    const row = (name: string, t: { p50Ms: number; maxMs: number }, budget: string) =>
      `| ${name} | ${t.p50Ms.toFixed(0)} | ${t.maxMs.toFixed(0)} | ${budget} |`;
    out.push('## Web console in Chromium');
    out.push('');
    out.push(
      `\`bench/protocols/console.ts\`: \`agentd serve\` on a store of ${c.runs.toLocaleString('en')} runs and one run of ${c.timelineEvents.toLocaleString('en')} events, the console in ${c.browser} (headless, playwright-core), ${c.runsFirstRender.rounds} rounds after a warm-up; each time runs from the action to the DOM showing its result.`,
    );
    out.push('');
    out.push('| what | p50 ms | slowest ms | target |');
    out.push('|---|---:|---:|---|');
    out.push(row('runs list, first render (page load to 50 rows)', c.runsFirstRender, '≤ 1000'));
    out.push(row('filter change (status, 1 run in 6 matches)', c.filterChange, '≤ 200'));
    out.push(row('filter change, nothing matches (every run scanned)', c.filterNoMatch, '≤ 200'));
    out.push(row('timeline, first rows', c.timelineFirstRows, '≤ 1000'));
    out.push(
      row(
        `timeline, all ${c.timelineEvents.toLocaleString('en')} events folded`,
        c.timelineAllEvents,
        '',
      ),
    );
    out.push('');
    out.push(
      `Scrolling the whole timeline: ${c.timelineScroll.frames} frames, ${c.timelineScroll.p50FrameMs.toFixed(1)} ms per frame at the median, ${c.timelineScroll.maxFrameMs.toFixed(1)} ms at the slowest.`,
    );
    out.push('');
  }
  if (results.telemetry) {
    const t = results.telemetry;
    out.push('## Telemetry: overhead per one-tool run');
    out.push('');
    out.push(
      `\`bench/protocols/telemetry.ts\`: one-tool runs one after another (durable SQLite log), ${t.runsPerRound.toLocaleString('en')} per mode and round, ${t.rounds} rounds, the order of modes rotating: telemetry off, on with a local OTLP/HTTP receiver in its own process, and on with an endpoint nothing listens on. A run is timed until the event loop has turned once after it, so the span work it caused (done between its steps) is in its time. CPU is the process's per run over a batch, with the export and the flush at close; starting the SDK is once per process and measured apart: ${t.sessionMs.start.toFixed(1)} ms to start (loading it, making the exporters), ${t.sessionMs.shutdown.toFixed(1)} ms to shut down with nothing queued.`,
    );
    out.push('');
    out.push(
      '| model | mode | run p50 (ms) | CPU per run (ms) | overhead (ms) | CPU overhead (ms) |',
    );
    out.push('|---|---|---:|---:|---:|---:|');
    for (const w of t.workloads) {
      const off = w.modes.find((m) => m.mode === 'off')!;
      for (const m of w.modes) {
        const over = m.mode === 'off' ? '—' : (m.runMs - off.runMs).toFixed(3);
        const cpu = m.mode === 'off' ? '—' : (m.cpuMs - off.cpuMs).toFixed(3);
        out.push(
          `| ${w.workload === 'http' ? 'fake model over HTTP' : 'scripted'} | ${m.mode} | ${m.runMs.toFixed(3)} | ${m.cpuMs.toFixed(3)} | ${over} | ${cpu} |`,
        );
      }
    }
    out.push('');
  }
  if (results.voice) {
    const v = results.voice;
    out.push('## Voice: from end of speech to the agent');
    out.push('');
    out.push(
      `\`bench/protocols/voice.ts\`: ${v.utterances} utterances into one durable run (SQLite), each a turn, from a fake OpenAI realtime transcription server whose transcript comes ${v.transcriptionLatencyMs} ms after the end of speech, to a fake model whose answer starts ${v.modelLatencyMs} ms after its request. agentd's own part is the time from the final transcript to the model request being durable in the run log (the transcript and the user turn are logged first).`,
    );
    out.push('');
    out.push('| measure | p50 (ms) | p95 (ms) |');
    out.push('|---|---:|---:|');
    out.push(
      `| final transcript → model request (goal ≤ 10 ms p50) | ${v.toRequestMs.p50.toFixed(2)} | ${v.toRequestMs.p95.toFixed(2)} |`,
    );
    out.push(
      `| end of speech → first agent token (floor ${v.floorMs} ms) | ${v.firstTokenMs.p50.toFixed(1)} | ${v.firstTokenMs.p95.toFixed(1)} |`,
    );
    out.push('');
    out.push(
      'skipped' in v.offline
        ? `Offline engine: skipped (${v.offline.skipped}).`
        : `Offline engine (pocketsphinx, en-us): real-time factor ${v.offline.realTimeFactor.toFixed(2)} (decoding time over audio time, median of ${v.offline.runs} on ${v.offline.audioSeconds.toFixed(1)} s of audio, whole file).`,
    );
    out.push('');
  }
  if (results.memory) {
    const m = results.memory;
    out.push('## Long-term memory: recall and ingestion');
    out.push('');
    out.push(
      `\`bench/protocols/memory.ts\`: synthetic memories on 2,000 topics (ten-word texts, ${m.dimensions}-dimension vectors clustered by topic) in a SQLite store with its full-text index, vectors and the HNSW index; ${m.queries} queries per size, each within one actor's, one agent's and one team's namespaces. Hybrid is MemoryBank.search (BM25 and ANN fused; the embedding call excluded). Ingestion writes 1,000 memories a transaction, then builds the index from the store's vectors.`,
    );
    out.push('');
    out.push(
      header(
        [
          'memories',
          'hybrid p50 (ms)',
          'p95',
          'full-text p50',
          'ANN p50',
          'ANN filtered p50',
          'ANN recall@10 (exact / within 1%)',
          'index (MiB)',
          'store (/s)',
          'index (/s)',
          'one write p50 (ms)',
          'snapshot load (s)',
        ],
        [
          '---:',
          '---:',
          '---:',
          '---:',
          '---:',
          '---:',
          '---:',
          '---:',
          '---:',
          '---:',
          '---:',
          '---:',
        ],
      ),
    );
    for (const l of m.levels) {
      out.push(
        `| ${l.memories.toLocaleString('en')} | ${l.recall.hybrid.p50Ms} | ${l.recall.hybrid.p95Ms} | ${l.recall.fullText.p50Ms} | ${l.recall.vector.p50Ms} | ${l.recall.vectorFiltered.p50Ms} | ${l.annRecallAt10} / ${l.annRecallAt10Within1pct} | ${l.indexMib} | ${l.storePerSecond.toLocaleString('en')} | ${l.indexPerSecond.toLocaleString('en')} | ${l.singleWrite.p50Ms} | ${l.snapshotLoadSeconds} |`,
      );
    }
    out.push('');
  }
  if (results.policy) {
    const p = results.policy;
    out.push('## Policy decisions (Cedar)');
    out.push('');
    out.push(
      `\`bench/protocols/policy.ts\`: ${p.decisions.toLocaleString('en')} decisions per set after a warm-up, an fs.read of a file under src/. \`authorize\` includes finding the file (realpath, as the fs connector resolves it); \`decide\` is the Cedar evaluation alone. Only the policies whose principal and action scopes can match are evaluated (\`applicable\`).`,
    );
    out.push('');
    out.push(
      header(
        ['policies', 'set', 'applicable', 'authorize p50 (µs)', 'p99', 'decide p50 (µs)', 'p99'],
        ['---:', '---', '---:', '---:', '---:', '---:', '---:'],
      ),
    );
    for (const [label, rows] of [
      ['spread over 100 agents', p.spread],
      ['all on one agent and action', p.sameAction],
    ] as const) {
      for (const r of rows) {
        out.push(
          row([
            String(r.policies),
            label,
            String(r.applicable),
            r.authorizeP50Us.toFixed(0),
            r.authorizeP99Us.toFixed(0),
            r.decideP50Us.toFixed(0),
            r.decideP99Us.toFixed(0),
          ]),
        );
      }
    }
    out.push('');
    out.push(
      `A one-tool step of a scripted run with the durable log: ${ms(p.stepMs.withoutPolicy)} ms without a policy, ${ms(p.stepMs.withPolicy)} ms with one; the decision, its audit row and its event are ${percent(p.policyShareOfStep)} of the step.`,
    );
    out.push('');
  }
  if (results.scale) {
    const s = results.scale;
    out.push('## Scale-out: workers on Postgres');
    out.push('');
    out.push(
      `\`bench/protocols/scale.ts\`: one-tool runs (two model calls of ${s.latencyMs} ms on the fake model) queued on Postgres and driven by \`agentd worker\` processes, ${s.concurrencyPerWorker} runs at once each; runs a second from the first run's first step to the last run's end.`,
    );
    out.push('');
    out.push(header(['workers', 'runs', 'runs/s', 'speed-up'], ['---:', '---:', '---:', '---:']));
    for (const r of s.workers) {
      out.push(
        row([
          String(r.workers),
          String(r.runs),
          r.runsPerSecond.toFixed(1),
          `×${r.speedup.toFixed(2)}`,
        ]),
      );
    }
    out.push('');
    out.push(header(['store', 'appends', 'events/s'], ['---', '---', '---:']));
    for (const r of s.appends) out.push(row([r.store, r.mode, String(r.eventsPerSecond)]));
    out.push('');
    out.push(
      `A worker killed (SIGKILL) mid-run, lease ${s.takeover.leaseMs} ms: its run resumed on another worker after ${s.takeover.samplesMs.join(', ')} ms (median ${s.takeover.medianMs} ms).`,
    );
    out.push('');
  }
  if (results.environments) {
    const e = results.environments;
    out.push('## Environments: step overhead and eval episodes');
    out.push('');
    out.push(
      `\`bench/protocols/environments.ts\`: ${e.steps.toLocaleString('en')} gridworld steps a round (the solver's actions over 50 seeds), ${e.rounds} rounds alternating the environment called directly and the same steps through \`env_step\` with \`runToolCall\` and the gate (validation, authorization, the episode, the step record and its observation digest; the run's log append is the steps benchmark's). Median of the rounds' medians.`,
    );
    out.push('');
    out.push(
      header(
        ['direct (µs)', 'env_step (µs)', 'overhead (µs)', 'goal'],
        ['---:', '---:', '---:', '---:'],
      ),
    );
    out.push(row([e.directUs.toFixed(1), e.toolUs.toFixed(1), e.overheadUs.toFixed(1), '≤ 200']));
    out.push('');
    out.push(
      header(
        ['eval episodes', 'concurrency', 'seconds', 'episodes/s'],
        ['---:', '---:', '---:', '---:'],
      ),
    );
    for (const r of e.eval) {
      out.push(
        row([
          String(r.episodes),
          String(r.concurrency),
          r.seconds.toFixed(2),
          r.episodesPerSecond.toFixed(1),
        ]),
      );
    }
    out.push('');
    out.push(
      'The eval runs the gridworld example agent (its scripted policy plans with the solver) on seeds 0..n-1, every run recorded in SQLite (in memory), every episode scored by episode_success and optimal_steps.',
    );
    out.push('');
  }
  if (results.data) {
    const d = results.data;
    out.push('## Datasets: synthetic-data generation and export');
    out.push('');
    out.push(
      `\`bench/protocols/data.ts\`: a design of a category sampler, an llm-text and an llm-judge column (${d.callsPerRow} model calls a row, one after the other) against a local OpenAI-compatible fake answering after ${d.latencyMs} ms; the ideal is concurrency / (${d.callsPerRow} × ${d.latencyMs} ms); after a warm-up design. Export: \`agentd data export sft\` (OpenAI format, lineage, manifest) from a SQLite store of ${d.export.runs.toLocaleString('en')} two-turn runs. Memory: sampler and expression columns only, each size in its own process, peak RSS.`,
    );
    out.push('');
    out.push('| concurrency | rows | rows/s | ideal rows/s | of ideal |');
    out.push('| ---: | ---: | ---: | ---: | ---: |');
    for (const r of d.design) {
      out.push(
        `| ${r.concurrency} | ${r.rows} | ${r.rowsPerSecond.toFixed(2)} | ${r.idealRowsPerSecond.toFixed(1)} | ${(r.ofIdeal * 100).toFixed(0)}% |`,
      );
    }
    out.push('');
    out.push(
      `Export: ${d.export.rows.toLocaleString('en')} rows in ${d.export.seconds.toFixed(1)} s, ${Math.round(d.export.rowsPerSecond).toLocaleString('en')} rows/s.`,
    );
    out.push('');
    out.push('| generated rows | seconds | peak RSS (MiB) |');
    out.push('| ---: | ---: | ---: |');
    for (const r of d.rss)
      out.push(
        `| ${r.rows.toLocaleString('en')} | ${r.seconds.toFixed(1)} | ${r.peakRssMib.toFixed(0)} |`,
      );
    out.push('');
  }
  if (results.teams) {
    const t = results.teams;
    out.push('## Agent teams: speed-up with the number of teammates');
    out.push('');
    out.push(
      `\`bench/protocols/teams.ts\`: a lead splits a job into ${t.tasks} independent tasks; each teammate's task takes ${t.callsPerTask} model calls, every call (the lead's too) ${t.latencyMs} ms; the durable log on. Wall time from the team's start to its result, median of ${t.rounds} rounds. The lead's own three calls are serial, so the ideal speed-up (the model's latency alone) is below N.`,
    );
    out.push('');
    out.push(
      header(
        ['teammates', 'at once', 'wall (ms)', 'speed-up', 'ideal'],
        ['---:', '---:', '---:', '---:', '---:'],
      ),
    );
    for (const r of t.rows) {
      out.push(
        row([
          String(r.teammates),
          String(r.maxRunning),
          String(r.wallMs),
          `×${r.speedup.toFixed(2)}`,
          `×${r.idealSpeedup.toFixed(2)}`,
        ]),
      );
    }
    out.push('');
  }
  if (results.profile) {
    const p = results.profile;
    out.push(`## Where agentd's time goes (CPU profile, workload b, warm, ${p.runs} runs)`);
    out.push('');
    out.push(
      `Busy ${ms(p.busyMs)} ms (${ms(p.busyMs / p.runs)} ms per run), idle (waiting on the fake model) ${ms(p.idleMs)} ms. Self time by what it is for:`,
    );
    out.push('');
    out.push(header(['group', 'share of busy time'], ['---', '---:']));
    for (const item of p.byGroup) out.push(row([item.name, percent(item.share)]));
    out.push('');
    out.push('By area (where the code lives):');
    out.push('');
    out.push(header(['area', 'share of busy time'], ['---', '---:']));
    for (const item of p.byArea.slice(0, 12)) out.push(row([item.name, percent(item.share)]));
    out.push('');
    out.push('Top functions by self time:');
    out.push('');
    out.push(header(['function', 'share'], ['---', '---:']));
    for (const item of p.byFunction.slice(0, 12))
      out.push(row([`\`${item.name}\``, percent(item.share)]));
    out.push('');
    out.push('agentd functions by inclusive time (they and what they call):');
    out.push('');
    out.push(header(['function', 'share'], ['---', '---:']));
    for (const item of p.agentdInclusive.slice(0, 10))
      out.push(row([`\`${item.name}\``, percent(item.share)]));
    out.push('');
  }
  out.push('## Configurations');
  out.push('');
  for (const name of results.frameworks) {
    const text = results.configurations[name];
    if (text) out.push(`- **${frameworks[name].label}**: ${text}`);
  }
  out.push('');
  return out.join('\n');
}

function stepsTable(results: Results): string {
  const steps = results.steps!;
  const raw = steps.samples.find((s) => s.framework === 'raw');
  const others = steps.samples.filter((s) => s.framework !== 'raw');
  const bucket = 100;
  const lines = [
    header(
      [
        'steps',
        'model (raw loop), ms/step',
        ...others.map((s) => `${frameworks[s.framework].label} overhead, ms/step`),
      ],
      ['---', '---:', ...others.map(() => '---:')],
    ),
  ];
  const count = raw?.intervals.length ?? others[0]?.intervals.length ?? 0;
  for (let start = 0; start < count; start += bucket) {
    const slice = (xs: number[] | undefined) => median((xs ?? []).slice(start, start + bucket));
    const base = slice(raw?.intervals);
    lines.push(
      row([
        `${start + 2}–${Math.min(start + bucket, count) + 1}`,
        ms(base),
        ...others.map((s) => ms(slice(s.intervals) - base)),
      ]),
    );
  }
  return lines.join('\n');
}
