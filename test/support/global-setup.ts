import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The whole suite's temp folder and its leak checks. Every test (and every process a test
 * starts: agentd, MCP servers, npm) makes its temp folders under one folder of the suite's own,
 * given to them as TMPDIR. After the last test, anything left in it, and any process still
 * running that the suite started, fails the run: each test removes what it creates and ends
 * what it starts.
 */
let root: string;
const marker = `agentd-suite-${process.pid}`;

export function setup(): void {
  const system = tmpdir();
  root = mkdtempSync(join(system, 'agentd-suite-'));
  // Node's compile cache stays where it is between runs, or every run would start cold.
  process.env.NODE_COMPILE_CACHE ??= join(system, 'node-compile-cache');
  process.env.TMPDIR = root;
  process.env.AGENTD_TEST_SUITE = marker;
}

/** Processes of this suite still alive: they carry its marker, or work in its temp folder. */
function survivors(): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // exited, not reaped
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (command.startsWith('vitest-watchdog')) continue; // vitest's own
      if (
        environ.includes(`AGENTD_TEST_SUITE=${marker}`) ||
        cwd.startsWith(root) ||
        command.includes(root)
      ) {
        found.push({ pid, command });
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

export async function teardown(): Promise<void> {
  const problems: string[] = [];
  // A process a test ended may take a moment to be gone; one that lives on is a leak.
  let alive = survivors();
  for (let i = 0; i < 40 && alive.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    alive = survivors();
  }
  for (const { pid, command } of alive) {
    problems.push(`process ${pid} outlived the suite: ${command.slice(0, 200)}`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const left = readdirSync(root).filter((name) => name !== 'node-compile-cache');
  for (const name of left) problems.push(`left in the temp folder: ${name}`);
  if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
  if (problems.length > 0) {
    throw new Error(
      `the suite leaked ${problems.length} thing(s); each test must remove what it creates and end what it starts:\n  ${problems.join('\n  ')}`,
    );
  }
}
