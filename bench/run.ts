import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, usage } from './cli-args.ts';
import type { BenchContext } from './context.ts';
import { FakeModelServer } from './fake-model/server.ts';
import { type FrameworkName, frameworkNames, frameworks } from './frameworks/catalog.ts';
import { fullPlan, quickPlan } from './plan.ts';
import { overheadChart } from './report/chart.ts';
import { markdownReport } from './report/markdown.ts';
import type { Results } from './results.ts';
import { defaultSuites, suites } from './suites.ts';
import { machine, versionsOf } from './versions.ts';

/**
 * `npm run bench`: starts the fake model, runs the suites asked for (all by default), writes
 * `<date>.json`, `<date>.md` and `<date>.svg` and prints the report.
 */
const benchDir = fileURLToPath(new URL('.', import.meta.url));
const started = performance.now();
const args = parseBenchArgs(process.argv.slice(2));
if (args.help) {
  process.stdout.write(
    `${usage}\nSuites:\n${Object.values(suites)
      .map((s) => `  ${s.name.padEnd(10)} ${s.description}`)
      .join('\n')}\n  all        ${defaultSuites.join(' + ')}\n`,
  );
  process.exit(0);
}
const chosen = args.suites.includes('all') ? defaultSuites : args.suites;
for (const name of chosen) {
  if (!suites[name]) {
    process.stderr.write(
      `bench: unknown suite "${name}" (known: ${Object.keys(suites).join(', ')}, all)\n`,
    );
    process.exit(2);
  }
}
const plan = args.quick ? quickPlan : fullPlan;
const log = (line: string) => process.stderr.write(`${line}\n`);
const server = await FakeModelServer.start(64);
const tmpDir = mkdtempSync(join(tmpdir(), 'agentd-bench-run-'));
const failures: string[] = [];
const ran = new Set<FrameworkName>();
const results: Results = {
  date: new Date().toISOString(),
  plan,
  suites: chosen,
  machine: machine(),
  versions: {},
  frameworks: [],
  configurations: {},
  wallSeconds: 0,
  failures,
};

try {
  for (const name of chosen) {
    const suite = suites[name]!;
    const picked: FrameworkName[] =
      args.frameworks ??
      (suite.defaultFrameworks === 'all' ? frameworkNames.filter((n) => n !== 'raw') : ['agentd']);
    const list: FrameworkName[] = ['raw', ...picked.filter((n) => n !== 'raw')];
    for (const n of list) ran.add(n);
    log(`suite ${name} (${plan.name} plan): ${list.join(', ')}`);
    const ctx: BenchContext = { server, plan, frameworks: list, tmpDir, log, failures };
    Object.assign(results, await suite.run(ctx));
  }
} finally {
  await server.close();
}

results.frameworks = frameworkNames.filter((n) => ran.has(n));
results.versions = versionsOf(results.frameworks.flatMap((n) => frameworks[n].packages));
for (const n of results.frameworks) results.configurations[n] = frameworks[n].configuration;
results.wallSeconds = (performance.now() - started) / 1000;

const outDir = args.out ?? join(benchDir, args.quick ? 'tmp/results' : 'results');
mkdirSync(outDir, { recursive: true });
const stamp = results.date.slice(0, 10);
const chartName = `${stamp}.svg`;
if (results.peers?.summary.agentd?.workloads.a?.warm) {
  writeFileSync(join(outDir, chartName), overheadChart(results));
}
const report = markdownReport(results, results.peers ? chartName : undefined);
writeFileSync(join(outDir, `${stamp}.json`), `${JSON.stringify(results, null, 1)}\n`);
writeFileSync(join(outDir, `${stamp}.md`), report);
rmSync(tmpDir, { recursive: true, force: true });
process.stdout.write(`${report}\n`);
log(
  `wrote ${relative(process.cwd(), join(outDir, `${stamp}.json`))} (.md, .svg) in ${Math.round(results.wallSeconds)} s`,
);
if (failures.length > 0) {
  log(`${failures.length} check(s) failed: the figures involved are not valid`);
  process.exitCode = 1;
}
