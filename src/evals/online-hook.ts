import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { agentdBin } from '../config/package-files.ts';

/*
 * What a finished run needs to decide on online evaluation, kept light: `agentd run` loads it
 * only when config.yaml has `online_eval`, and loads no evaluator, judge or store for a run
 * that is not sampled.
 */

/**
 * Where a run falls in [0, 1): from a hash of its id, so the same run is always in or out of
 * the sample, whichever process asks, and runs spread evenly.
 */
export function sampleValue(runId: string): number {
  const digest = createHash('sha256').update(`agentd online eval\n${runId}`).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** Whether a run is in a sample of this share (0: none, 1: all). */
export function isSampled(runId: string, share: number): boolean {
  return share > 0 && sampleValue(runId) < share;
}

/** Whether online evaluation wants this finished run: sampled, and of an agent it covers. */
export function wantsRun(
  config: Pick<Config, 'onlineEval'>,
  run: { id: string; agent: string },
): boolean {
  const online = config.onlineEval;
  if (!online) return false;
  if (online.agents && !online.agents.includes(run.agent)) return false;
  return isSampled(run.id, online.sample);
}

/** Where the background scorers write what goes wrong (nobody is watching their terminal). */
export function onlineLogPath(config: Pick<Config, 'home'>): string {
  return join(config.home, 'logs', 'online-eval.log');
}

/**
 * After `agentd run` (or `runs resume`) finishes a run: when online evaluation wants it,
 * starts `agentd eval online --score <id>` in the background, detached, so the command
 * returns at once and the run is scored after it. Its output goes to the online log.
 */
export function scoreInBackground(config: Config, run: { id: string; agent: string }): boolean {
  if (!wantsRun(config, run)) return false;
  const bin = agentdBin();
  const logPath = onlineLogPath(config);
  mkdirSync(join(config.home, 'logs'), { recursive: true });
  const log = openSync(logPath, 'a');
  try {
    const child = spawn(process.execPath, [bin, 'eval', 'online', '--score', run.id], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, NO_COLOR: '1' },
    });
    child.on('error', () => {});
    child.unref();
  } finally {
    closeSync(log);
  }
  return true;
}

/**
 * The hook `agentd run` and `agentd runs resume` call when a run ends: a finished run the
 * sample takes is scored in the background. It never fails the command: a problem is one
 * line on stderr.
 */
export function scoreAfterRun(
  config: Config,
  result: { runId: string; state: { status: string; agent: string } },
): void {
  const { status, agent } = result.state;
  if (!['completed', 'failed', 'cancelled', 'budget_exceeded'].includes(status)) return;
  try {
    scoreInBackground(config, { id: result.runId, agent });
  } catch (error) {
    process.stderr.write(
      `agentd: online evaluation of run ${result.runId} could not start: ${(error as Error).message}\n`,
    );
  }
}
