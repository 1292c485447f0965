import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchArgs } from './cli-args.ts';
import type { BenchContext } from './context.ts';
import { FakeModelServer } from './fake-model/server.ts';
import { type FrameworkName, frameworkNames, frameworks } from './frameworks/catalog.ts';
import { fullPlan, quickPlan } from './plan.ts';
import type { Results } from './results.ts';
import { suites } from './suites.ts';
import { machine, versionsOf } from './versions.ts';

/** Starts the fake model and runs the suites named, each on its frameworks plus the raw loop. */
export async function measure(args: BenchArgs, chosen: readonly string[]): Promise<Results> {
  const started = performance.now();
  const plan = args.quick ? quickPlan : fullPlan;
  const log = (line: string) => {
    const s = Math.round((performance.now() - started) / 1000);
    const stamp = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    process.stderr.write(`[${stamp}] ${line}\n`);
  };
  const server = await FakeModelServer.start(64);
  const tmpDir = mkdtempSync(join(tmpdir(), 'agentd-bench-run-'));
  const failures: string[] = [];
  const ran = new Set<FrameworkName>();
  const results: Results = {
    date: new Date().toISOString(),
    plan,
    suites: [...chosen],
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
        (suite.defaultFrameworks === 'all'
          ? frameworkNames.filter((n) => n !== 'raw')
          : ['agentd']);
      const list: FrameworkName[] = ['raw', ...picked.filter((n) => n !== 'raw')];
      for (const n of list) ran.add(n);
      log(`suite ${name} (${plan.name} plan): ${list.join(', ')}`);
      const ctx: BenchContext = { server, plan, frameworks: list, tmpDir, log, failures };
      Object.assign(results, await suite.run(ctx));
    }
  } finally {
    await server.close();
    rmSync(tmpDir, { recursive: true, force: true });
  }
  results.frameworks = frameworkNames.filter((n) => ran.has(n));
  results.versions = versionsOf(results.frameworks.flatMap((n) => frameworks[n].packages));
  for (const n of results.frameworks) results.configurations[n] = frameworks[n].configuration;
  results.wallSeconds = (performance.now() - started) / 1000;
  return results;
}
