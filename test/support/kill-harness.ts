import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { repoRoot } from './cli.ts';

/** mulberry32: a small seeded PRNG, so a kill schedule is the same every time. */
export function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * How many events the store in `home` holds: every run's and every team's log. Read through
 * a read-only connection while another process writes (WAL readers never block it).
 */
export function countEvents(home: string): number {
  const path = join(home, 'agentd.db');
  if (!existsSync(path)) return 0;
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    const tables = new Set(
      (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
          name: string;
        }[]
      ).map((row) => row.name),
    );
    let count = 0;
    for (const table of ['events', 'team_events']) {
      if (!tables.has(table)) continue;
      count += Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
    }
    return count;
  } catch {
    // created but not yet migrated, or mid-checkpoint: nothing to count yet
    return 0;
  } finally {
    db?.close();
  }
}

export interface KillPoint {
  /** SIGKILL once the store holds this many events or more (never, if undefined). */
  atEvents?: number;
  /** Called on every look at the store; return true to SIGKILL now. */
  onLook?: (events: number) => boolean;
  /** SIGSTOP once the store holds this many events, SIGCONT at the next look after it. */
  pauseAt?: number;
  /** Called on every look; once it returns true, SIGTERM (a graceful end; no kill after it). */
  endWhen?: () => boolean;
  /** The process's standard output as it grows (it is not read otherwise). */
  onStdout?: (text: string) => void;
}

export interface KillOutcome {
  /** Whether the process died of the SIGKILL (not of its own end first). */
  killed: boolean;
  code: number | null;
  /** Events in the store when it was killed or ended. */
  events: number;
  /** Whether it was stopped with SIGSTOP and continued. */
  paused: boolean;
}

/**
 * Runs `agentd <args>` in its own process and kills it with SIGKILL at a point chosen by what
 * the store holds, not by a clock: a kill lands after the run made the progress asked for,
 * however fast the machine is. The store is looked at every few milliseconds while the process
 * lives; it may get a little further than the kill point before the signal arrives.
 */
export function agentdUntilKilled(
  args: string[],
  env: Record<string, string> & { AGENTD_HOME: string },
  point: KillPoint,
): Promise<KillOutcome> {
  const home = env.AGENTD_HOME;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/agentd.js'), ...args], {
      env: { ...process.env, ...env, NO_COLOR: '1' },
      stdio: ['ignore', point.onStdout ? 'pipe' : 'ignore', 'ignore'],
    });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      point.onStdout?.(out);
    });
    let killed = false;
    let ending = false;
    let events = 0;
    let looking = false;
    let paused: 'no' | 'stopped' | 'continued' = 'no';
    const look = () => {
      if (killed || ending || looking) return;
      looking = true;
      events = countEvents(home);
      looking = false;
      if (paused === 'stopped') {
        paused = child.kill('SIGCONT') ? 'continued' : paused;
      } else if (paused === 'no' && point.pauseAt !== undefined && events >= point.pauseAt) {
        if (child.kill('SIGSTOP')) paused = 'stopped';
        return;
      }
      const due =
        (point.atEvents !== undefined && events >= point.atEvents) ||
        (point.onLook?.(events) ?? false);
      if (due) killed = child.kill('SIGKILL');
      else if (point.endWhen?.()) ending = child.kill('SIGTERM');
    };
    const timer = setInterval(look, 5);
    child.on('error', (error) => {
      clearInterval(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      resolve({
        killed: killed && signal === 'SIGKILL',
        code,
        events: killed ? events : countEvents(home),
        paused: paused === 'continued',
      });
    });
  });
}
