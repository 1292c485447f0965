import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs, usage } from './cli-args.ts';
import { measure } from './measure.ts';
import { overheadChart } from './report/chart.ts';
import { markdownReport } from './report/markdown.ts';
import type { Results } from './results.ts';
import { defaultSuites, suites } from './suites.ts';

/**
 * `npm run bench`: runs the suites asked for (all by default), writes `<date>.json`,
 * `<date>.md` and `<date>.svg`, and prints the report. `--from` re-renders an earlier run.
 */
const benchDir = fileURLToPath(new URL('.', import.meta.url));
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

let results: Results;
let outDir: string;
if (args.from) {
  results = JSON.parse(readFileSync(args.from, 'utf8')) as Results;
  outDir = args.out ?? dirname(args.from);
} else {
  results = await measure(args, chosen);
  outDir = args.out ?? join(benchDir, args.quick ? 'tmp/results' : 'results');
}

mkdirSync(outDir, { recursive: true });
const stamp = results.date.slice(0, 10);
const chartName = `${stamp}.svg`;
const hasChart = results.peers?.summary.agentd?.workloads.a?.warm !== undefined;
if (hasChart) writeFileSync(join(outDir, chartName), overheadChart(results));
const report = markdownReport(results, hasChart ? chartName : undefined);
if (!args.from)
  writeFileSync(join(outDir, `${stamp}.json`), `${JSON.stringify(results, null, 1)}\n`);
writeFileSync(join(outDir, `${stamp}.md`), report);
process.stdout.write(`${report}\n`);
process.stderr.write(
  `wrote ${relative(process.cwd(), join(outDir, stamp))}.{${[args.from ? '' : 'json', 'md', hasChart ? 'svg' : ''].filter(Boolean).join(',')}} (${Math.round(results.wallSeconds)} s of measuring)\n`,
);
if (results.failures.length > 0) {
  process.stderr.write(
    `${results.failures.length} check(s) failed: the figures involved are not valid\n`,
  );
  process.exitCode = 1;
}
