import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineEvaluator } from 'agentd';

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'core.quotepath=off', ...args], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

/** The case's test command passes in the folder the agent worked in, after the run. */
export const testsPass = defineEvaluator({
  name: 'tests_pass',
  threshold: 1,
  evaluate({ workdir, case: c }) {
    if (!workdir) return undefined;
    const command = String(c?.metadata?.test_command ?? 'npm test');
    try {
      execFileSync('/bin/sh', ['-c', command], { cwd: workdir, stdio: 'pipe', timeout: 300_000 });
      return { score: 1, explanation: `${command} passes` };
    } catch (error) {
      const out = String((error as { stdout?: Buffer }).stdout ?? '')
        .trim()
        .split('\n');
      return { score: 0, explanation: `${command} fails: ${out.slice(-3).join(' / ')}` };
    }
  },
});

/** Lines added and removed against the fixture as it was (committed or not, new files too). */
function changedLines(dir: string): { lines: number; files: string[] } {
  const root = git(dir, 'rev-list', '--max-parents=0', 'HEAD').split('\n')[0]!;
  let lines = 0;
  const files: string[] = [];
  for (const row of git(dir, 'diff', '--numstat', root).split('\n').filter(Boolean)) {
    const [added, removed, file] = row.split('\t');
    lines += (Number(added) || 0) + (Number(removed) || 0);
    files.push(file!);
  }
  for (const file of git(dir, 'ls-files', '--others', '--exclude-standard')
    .split('\n')
    .filter(Boolean)) {
    lines += readFileSync(join(dir, file), 'utf8').split('\n').length;
    files.push(file);
  }
  return { lines, files };
}

/** A small diff scores 1; past the case's max_diff_lines the score falls as max / lines. */
export const diffSize = defineEvaluator({
  name: 'diff_size',
  threshold: 1,
  evaluate({ workdir, case: c }) {
    if (!workdir) return undefined;
    const max = Number(c?.metadata?.max_diff_lines ?? 50);
    const { lines, files } = changedLines(workdir);
    if (lines === 0) return { score: 0, explanation: 'nothing changed' };
    return {
      score: Math.min(1, max / lines),
      explanation: `${lines} lines changed in ${files.length} files (${files.join(', ')}); at most ${max} expected`,
      details: { lines, files, max },
    };
  },
});

/**
 * The work is committed on a work branch (a checkpoint; one per step when the case says how
 * many steps it has, `metadata.steps`), and nothing is left uncommitted.
 */
export const committed = defineEvaluator({
  name: 'committed',
  threshold: 1,
  evaluate({ workdir, case: c }) {
    if (!workdir) return undefined;
    const steps = Number(c?.metadata?.steps ?? 1);
    const branch = git(workdir, 'branch', '--show-current');
    const commits = Number(git(workdir, 'rev-list', '--count', '--no-merges', 'main..HEAD'));
    const dirty = git(workdir, 'status', '--porcelain');
    const checks = [branch !== 'main', commits >= steps, dirty === ''];
    return {
      score: checks.filter(Boolean).length / checks.length,
      explanation: `branch ${branch}, ${commits} commit${commits === 1 ? '' : 's'} past main, ${dirty ? 'uncommitted changes left' : 'nothing uncommitted'}`,
    };
  },
});
