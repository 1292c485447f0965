/**
 * Compares one conformance run with the baseline of expected failures.
 *
 *   node scripts/mcp-conformance-compare.ts <baseline.json> <run-id> <results-dir> <cli-output>
 *
 * A scenario fails when any of its checks (results-dir/<scenario>-<time>/checks.json) is a
 * FAILURE, or when the CLI's summary lists it without results. Prints one line per scenario;
 * exits 1 when a scenario fails that the baseline does not expect for this run (or list as
 * flaky). Baselined scenarios that now pass are reported, so their entries can be removed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface Expected {
  scenario: string;
  reason: string;
}
interface Baseline {
  runs: Record<string, { command: string; expectedFailures: Expected[] }>;
  /** Scenarios that pass but can fail on a loaded machine for reasons outside agentd. */
  flaky?: Expected[];
}
interface Check {
  id: string;
  status: string;
  errorMessage?: string;
}

const [baselinePath, runId, resultsDir, cliOutput] = process.argv.slice(2);
if (!baselinePath || !runId || !resultsDir || !cliOutput) {
  console.error('usage: mcp-conformance-compare.ts <baseline.json> <run-id> <results-dir> <cli-output>');
  process.exit(2);
}
const baseline = JSON.parse(readFileSync(baselinePath, 'utf8')) as Baseline;
const expected = new Map(
  (baseline.runs[runId]?.expectedFailures ?? []).map((entry) => [entry.scenario, entry.reason]),
);
const flaky = new Map((baseline.flaky ?? []).map((entry) => [entry.scenario, entry.reason]));

/** scenario -> failing check ids ([] when it passed) */
const outcomes = new Map<string, string[]>();
const walk = (dir: string) => {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!statSync(path).isDirectory()) continue;
    const checksFile = join(path, 'checks.json');
    if (existsSync(checksFile)) {
      const scenario = relative(resultsDir, path).replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, '');
      const checks = JSON.parse(readFileSync(checksFile, 'utf8')) as Check[];
      const failed = checks.filter((check) => check.status === 'FAILURE').map((check) => check.id);
      outcomes.set(scenario, [...(outcomes.get(scenario) ?? []), ...failed]);
    } else {
      walk(path);
    }
  }
};
walk(resultsDir);

// Scenarios the CLI summarised but left no results for count as failed.
const summary = readFileSync(cliOutput, 'utf8');
const summaryStart = summary.indexOf('=== SUITE SUMMARY ===');
if (summaryStart >= 0) {
  for (const match of summary.slice(summaryStart).matchAll(/^[✓✗] (\S+): /gmu)) {
    const scenario = match[1] ?? '';
    if (!outcomes.has(scenario)) outcomes.set(scenario, ['(no results)']);
  }
}
if (outcomes.size === 0) {
  console.log(`${runId}: no results: the conformance CLI did not run (see ${cliOutput})`);
  process.exit(1);
}

let newFailures = 0;
let passed = 0;
const stale: string[] = [];
for (const [scenario, failed] of [...outcomes].sort(([a], [b]) => a.localeCompare(b))) {
  const reason = expected.get(scenario);
  if (failed.length === 0) {
    passed++;
    if (reason !== undefined) stale.push(scenario);
    console.log(`  pass  ${scenario}${reason !== undefined ? '  (baselined as failing: remove the entry)' : ''}`);
  } else if (reason !== undefined) {
    console.log(`  fail  ${scenario}  expected: ${reason}`);
  } else if (flaky.has(scenario)) {
    console.log(`  fail  ${scenario}  flaky: ${flaky.get(scenario)}`);
  } else {
    newFailures++;
    console.log(`  FAIL  ${scenario}  NEW: ${failed.join(', ')}`);
  }
}
const failedCount = outcomes.size - passed;
console.log(
  `${runId}: ${passed} passed, ${failedCount} failed (${failedCount - newFailures} expected, ${newFailures} new)${stale.length ? `; now passing but baselined: ${stale.join(', ')}` : ''}`,
);
process.exit(newFailures > 0 ? 1 : 0);
