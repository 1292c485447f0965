import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type { TeamTask } from '../store/team-store.ts';

/**
 * Teammates that change a git repository each work in a clone of their own, so their edits
 * never collide: `<repository>/.git/agentd/clones/<team>/<member>` (inside `.git`, so the
 * repository's status does not show it, and its own `.git` inside, so commits in a sandbox
 * that may write only the member's folder work). Before each task the clone is put on the
 * task's step branch, `agentd/step-<task>`, made from the repository's current branch (the
 * lead's work branch) with the step branches of the task's dependencies merged in; when the
 * member's run ends, its step branches are fetched back into the repository, where the lead
 * merges them.
 */
export class GitWorkspaces {
  /** The repository the lead works in. */
  readonly repository: string;
  readonly #root: string;
  /** Writes to the repository (fetching step branches back) one at a time. */
  #writes: Promise<unknown> = Promise.resolve();

  constructor(repository: string, team: string) {
    this.repository = repository;
    let gitDir: string;
    try {
      gitDir = git(repository, 'rev-parse', '--absolute-git-dir');
    } catch (error) {
      throw new AgentdError(
        'spec_invalid',
        `${repository}: teammates with workspace: git-clone need a git repository to clone (${firstLine(errorMessage(error))}); run the team in one, or give the lead a workdir that is`,
      );
    }
    this.#root = join(gitDir, 'agentd', 'clones', team);
  }

  /** The member's folder (made empty when missing: the clone is made when it takes a task). */
  folder(member: string): string {
    const dir = join(this.#root, member);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** The branch a task's work is committed to. */
  static branch(taskId: string): string {
    return `agentd/step-${taskId}`;
  }

  /**
   * Puts the member's clone on the task's step branch: the repository's current branch with
   * the step branches of the task's dependencies merged. Anything a previous task left
   * uncommitted in the clone is dropped (only commits count).
   */
  async beforeTask(member: string, task: TeamTask): Promise<void> {
    const clone = this.folder(member);
    if (!existsSync(join(clone, '.git'))) {
      if (readdirSync(clone).length > 0) {
        throw new Error(`${clone} is neither empty nor a clone; remove it`);
      }
      await gitAsync(this.repository, 'clone', '--quiet', '--no-checkout', this.repository, clone);
      for (const key of ['user.name', 'user.email']) {
        const value = gitMaybe(this.repository, 'config', '--get', key);
        if (value) await gitAsync(clone, 'config', key, value);
      }
    }
    const base = await gitAsync(this.repository, 'branch', '--show-current');
    if (!base) {
      throw new Error(`${this.repository} is not on a branch (a detached HEAD); switch to one`);
    }
    await gitAsync(
      clone,
      'fetch',
      '--quiet',
      '--force',
      '--no-write-fetch-head',
      'origin',
      '+refs/heads/*:refs/remotes/origin/*',
    );
    await gitAsync(clone, 'reset', '--quiet', '--hard');
    await gitAsync(clone, 'clean', '--quiet', '-fd');
    const branch = GitWorkspaces.branch(task.id);
    await gitAsync(clone, 'switch', '--quiet', '--force-create', branch, `origin/${base}`);
    for (const dep of task.dependsOn) {
      const remote = `origin/${GitWorkspaces.branch(dep)}`;
      if (!gitMaybe(clone, 'rev-parse', '--verify', '--quiet', remote)) continue;
      try {
        await gitAsync(clone, 'merge', '--quiet', '--no-edit', '--no-verify', remote);
      } catch (error) {
        gitMaybe(clone, 'merge', '--abort');
        throw new Error(
          `the step branches of ${task.dependsOn.join(', ')} do not merge cleanly for ${task.id}: ${firstLine(errorMessage(error))}`,
        );
      }
    }
  }

  /**
   * Fetches the member's step branches back into the repository (forced: the clone's are
   * newer), one member at a time.
   */
  afterRun(member: string): Promise<void> {
    const clone = join(this.#root, member);
    const fetch = async () => {
      if (!existsSync(join(clone, '.git'))) return;
      await gitAsync(
        this.repository,
        'fetch',
        '--quiet',
        '--force',
        '--no-write-fetch-head',
        clone,
        '+refs/heads/agentd/step-*:refs/heads/agentd/step-*',
      );
    };
    const next = this.#writes.then(fetch);
    this.#writes = next.catch(() => undefined);
    return next;
  }
}

/** git without the user's hooks or pager; throws with git's own message. */
function git(cwd: string, ...args: string[]): string {
  try {
    return execFileSync('git', ['-c', 'core.hooksPath=/dev/null', ...args], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
    }).trim();
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`git ${args[0]}: ${stderr || errorMessage(error)}`);
  }
}

/** `git` without holding up the process (other members' runs go on meanwhile). */
function gitAsync(cwd: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      ['-c', 'core.hooksPath=/dev/null', ...args],
      { cwd, encoding: 'utf8', env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`git ${args[0]}: ${stderr.trim() || errorMessage(error)}`));
        else resolve(stdout.trim());
      },
    );
  });
}

function gitMaybe(cwd: string, ...args: string[]): string | undefined {
  try {
    return git(cwd, ...args) || undefined;
  } catch {
    return undefined;
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
