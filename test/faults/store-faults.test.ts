import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { agentd, type CliResult, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

/**
 * Faults under the embedded store, caused for real: a small tmpfs as AGENTD_HOME that a tool
 * fills mid-run, a read-only bind mount, a damaged file, a lock held by another process. Each
 * ends in one line saying what to do, nothing of a run half-written, and the work resumable
 * once the fault is gone. Mounting needs root (as in CI); elsewhere those cases say they were
 * skipped.
 */
const filler = join(repoRoot, 'test/faults/fixtures/filler/agent.yaml');
const converter = join(repoRoot, 'examples/unit-converter/agent.yaml');

function canMount(): boolean {
  const dir = tempDir();
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]).status === 0;
  if (mounted) spawnSync('umount', [dir]);
  return mounted;
}
const mounts = process.getuid?.() === 0 && canMount();

/** A tmpfs of `size` mounted on a fresh folder, unmounted when the test ends. */
function tmpfs(size: string): string {
  const dir = tempDir();
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  expect(result.status, String(result.stderr)).toBe(0);
  onTestFinished(() => {
    spawnSync('umount', [dir]);
  });
  return dir;
}

/** One line on stderr (after the run's own progress lines), exit 2, no stack trace. */
function expectOneLine(result: CliResult, pattern: RegExp): void {
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('agentd: '));
  expect(errors, result.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
  expect(result.stderr).not.toContain('internal error');
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.code, result.stderr).toBe(2);
}

async function events(home: string, id: string): Promise<RunEvent[]> {
  const out = join(tempDir(), 'events.jsonl');
  const exported = await agentd(['runs', 'export', id, '-o', out], { home });
  expect(exported.code, exported.stderr).toBe(0);
  const { readFileSync } = await import('node:fs');
  return readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RunEvent);
}

function runIdOf(stderr: string): string {
  const match = /run (run_[0-9a-z]+)/.exec(stderr);
  if (!match) throw new Error(`no run id in: ${stderr}`);
  return match[1]!;
}

// Each case runs agentd several times in a row: a guard against a hang, not a measure of speed.
const guard = 120_000;

describe('store faults', () => {
  it.skipIf(!mounts)(
    'the disk fills mid-run: one line, the log whole up to the last durable event, resumed once space is freed',
    async () => {
      const home = tmpfs('1m');
      const env = { FILL_MARKER: join(tempDir(), 'filled') };
      const run = await agentd(['run', filler, 'fill the disk'], { home, env });
      expectOneLine(
        run,
        /the run store \S+agentd\.db: the disk is full .*free space on it, then continue an interrupted run with agentd runs resume <run-id>$/,
      );
      const id = runIdOf(run.stderr);

      // still full: resuming says the same, and changes nothing
      const again = await agentd(['runs', 'resume', id], { home, env });
      expectOneLine(again, /the disk is full/);

      rmSync(join(home, 'filler'));
      const before = await events(home, id);
      expect(before.map((e) => e.seq)).toEqual(before.map((_, i) => i)); // dense: nothing half-written
      expect(before.at(-1)?.type).toBe('tool.call');
      const resumed = await agentd(['runs', 'resume', id], { home, env });
      expect(resumed.code, resumed.stderr).toBe(0);
      const after = await events(home, id);
      expect(after.map((e) => e.seq)).toEqual(after.map((_, i) => i));
      expect(after.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'completed' } });
    },
    guard,
  );

  it.skipIf(!mounts)(
    'the disk is full before a run starts: one line, and the run goes once it is not',
    async () => {
      const home = tmpfs('1m');
      spawnSync('dd', ['if=/dev/zero', `of=${join(home, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
      expectOneLine(
        await agentd(['run', converter, 'convert'], { home }),
        /the run store \S+agentd\.db: (the disk is full|.*) .*(free space|check the disk)/,
      );
      rmSync(join(home, 'filler'));
      const run = await agentd(['run', converter, 'convert'], { home });
      expect(run.code, run.stderr).toBe(0);
    },
    guard,
  );

  it.skipIf(!mounts)(
    'the store is on a read-only file system: one line, for reads and runs',
    async () => {
      const home = tempDir();
      const made = await agentd(['run', converter, 'convert'], { home });
      expect(made.code, made.stderr).toBe(0);
      const readOnly = tempDir();
      expect(spawnSync('mount', ['--bind', home, readOnly]).status).toBe(0);
      onTestFinished(() => {
        spawnSync('umount', [readOnly]);
      });
      expect(spawnSync('mount', ['-o', 'remount,ro,bind', readOnly]).status).toBe(0);
      for (const args of [
        ['run', converter, 'convert'],
        ['runs', 'list'],
      ]) {
        expectOneLine(
          await agentd(args, { home: readOnly }),
          /the run store \S+agentd\.db is on a read-only file system or not writable .*set AGENTD_HOME to a writable folder$/,
        );
      }
      // the store itself is whole: the same file, writable again, lists its run
      const list = await agentd(['runs', 'list'], { home });
      expect(list.stdout).toContain('completed');
    },
    guard,
  );

  it(
    'a damaged or truncated store: one line that says what to do',
    async () => {
      for (const damage of ['garbage', 'truncated'] as const) {
        const home = tempDir();
        const made = await agentd(['run', converter, 'convert'], { home });
        expect(made.code, made.stderr).toBe(0);
        const db = join(home, 'agentd.db');
        if (damage === 'garbage')
          writeFileSync(db, 'not a database at all, just text '.repeat(200));
        else truncateSync(db, 5000);
        for (const args of [
          ['run', converter, 'convert'],
          ['runs', 'list'],
        ]) {
          expectOneLine(
            await agentd(args, { home }),
            /the run store \S+agentd\.db is damaged \(.*\): restore it from a backup, or move it aside to start a new store$/,
          );
        }
      }
    },
    guard,
  );

  it(
    'a store locked by another process past the busy timeout: one line, and the run goes once it is released',
    async () => {
      const home = tempDir();
      mkdirSync(home, { recursive: true });
      const made = await agentd(['run', converter, 'convert'], { home });
      expect(made.code, made.stderr).toBe(0);
      // another process takes the write lock and keeps it until its stdin closes
      const holder = spawn(
        process.execPath,
        [
          '-e',
          `const { DatabaseSync } = require('node:sqlite');
         const db = new DatabaseSync(${JSON.stringify(join(home, 'agentd.db'))});
         db.exec('BEGIN EXCLUSIVE');
         process.stdout.write('locked\\n');
         process.stdin.on('end', () => { db.exec('COMMIT'); db.close(); process.exit(0); }).resume();`,
        ],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      onTestFinished(() => {
        holder.kill('SIGKILL');
      });
      await new Promise<void>((resolve, reject) => {
        holder.stdout.setEncoding('utf8').on('data', (text: string) => {
          if (text.includes('locked')) resolve();
        });
        holder.on('exit', (code) => reject(new Error(`the lock holder exited (${code})`)));
      });
      expectOneLine(
        await agentd(['run', converter, 'convert'], { home }),
        /the run store \S+agentd\.db is locked by another process past the busy timeout of 5 s .*let that process finish or stop it/,
      );
      const released = new Promise((resolve) => holder.on('exit', resolve));
      holder.stdin.end();
      await released;
      const run = await agentd(['run', converter, 'convert'], { home });
      expect(run.code, run.stderr).toBe(0);
    },
    guard,
  );
});
