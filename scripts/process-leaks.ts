import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Processes still alive that a test suite or a script started: they carry its marker in their
 * environment (children inherit it), or work in, or name, its temp folder. Read from /proc.
 * Used after the suite's last test (test/support/global-setup.ts) and after a CI script
 * (scripts/no-leaks.ts): what they started must have ended.
 */
/** `marker` is one entry of the environment, `NAME=value`. */
export function survivors(marker: string, root: string): { pid: number; command: string }[] {
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
      if (environ.split('\0').includes(marker) || cwd.startsWith(root) || command.includes(root)) {
        found.push({ pid, command });
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * The survivors after a grace of about 2 s (a process just sent a signal may take a moment
 * to go), each then killed: a leak is reported, not left running.
 */
export async function endSurvivors(
  marker: string,
  root: string,
): Promise<{ pid: number; command: string }[]> {
  let alive = survivors(marker, root);
  for (let i = 0; i < 40 && alive.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    alive = survivors(marker, root);
  }
  for (const { pid } of alive) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  return alive;
}
