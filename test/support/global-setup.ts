import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endSurvivors } from '../../scripts/process-leaks.ts';

/**
 * The whole suite's temp folder and its leak checks. Every test (and every process a test
 * starts: agentd, MCP servers, npm) makes its temp folders under one folder of the suite's own,
 * given to them as TMPDIR. After the last test, anything left in it, and any process still
 * running that the suite started, fails the run: each test removes what it creates and ends
 * what it starts.
 */
let root: string;
let runtime: string;
const marker = `agentd-suite-${process.pid}`;

export function setup(): void {
  const system = tmpdir();
  root = mkdtempSync(join(system, 'agentd-suite-'));
  // Node's compile cache stays where it is between runs, or every run would start cold.
  process.env.NODE_COMPILE_CACHE ??= join(system, 'node-compile-cache');
  process.env.TMPDIR = root;
  // Audio libraries (PulseAudio's client, under espeak-ng, sox and Chromium) make a runtime
  // folder in TMPDIR when there is no XDG_RUNTIME_DIR: theirs, not a test's, so it goes here.
  if (!process.env.XDG_RUNTIME_DIR) {
    runtime = mkdtempSync(join(system, 'agentd-suite-runtime-'));
    process.env.XDG_RUNTIME_DIR = runtime;
  }
  process.env.AGENTD_TEST_SUITE = marker;
}

export async function teardown(): Promise<void> {
  const problems: string[] = [];
  // A process a test ended may take a moment to be gone; one that lives on is a leak.
  for (const { pid, command } of await endSurvivors(`AGENTD_TEST_SUITE=${marker}`, root)) {
    problems.push(`process ${pid} outlived the suite: ${command.slice(0, 200)}`);
  }
  const left = readdirSync(root).filter((name) => name !== 'node-compile-cache');
  for (const name of left) problems.push(`left in the temp folder: ${name}`);
  if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
  if (runtime) rmSync(runtime, { recursive: true, force: true });
  if (problems.length > 0) {
    throw new Error(
      `the suite leaked ${problems.length} thing(s); each test must remove what it creates and end what it starts:\n  ${problems.join('\n  ')}`,
    );
  }
}
