import { errorMessage } from '../core/errors.ts';
import type { FinalStatus, FinishReason, RunFinishedData } from '../core/events.ts';
import type { Loop, RunResult } from './loop-context.ts';
import { RunSuspension } from './run-suspension.ts';

/** Ends the run: `run.finished` with its status, reason and totals. */
export async function finish(
  loop: Loop,
  status: FinalStatus,
  reason: FinishReason,
  extra: { detail?: string; summary?: string } = {},
): Promise<RunResult> {
  const { state, now } = loop;
  const data: RunFinishedData = {
    status,
    reason,
    turns: state.turns,
    usage: state.usage,
    costUsd: state.costKnown ? state.costUsd : null,
    durationMs: Math.round(state.activeMs + Math.max(0, now() - Date.parse(state.lastEventAt))),
    ...extra,
  };
  if (state.output !== undefined && status === 'completed') data.output = state.output;
  await loop.log.append({ type: 'run.finished', data });
  return { runId: loop.runId, state };
}

/**
 * The run's signal aborted: a suspension leaves the run to be resumed (`run.suspended`, or
 * nothing when it is quiet); a cancellation ends it.
 */
export async function stopped(loop: Loop): Promise<RunResult> {
  const reason: unknown = loop.signal.reason;
  if (reason instanceof RunSuspension) {
    if (!reason.quiet) {
      await loop.log.append({ type: 'run.suspended', data: { reason: reason.reason } });
    }
    return { runId: loop.runId, state: loop.state };
  }
  return finish(loop, 'cancelled', 'cancelled', { detail: 'cancelled by the user' });
}

/** A step failed: `run.error` with its code, then the run ends as failed with the message. */
export async function failed(
  loop: Loop,
  code: 'model_error' | 'internal_error' | 'compaction_failed',
  reason: 'model_error' | 'internal_error',
  message: string,
): Promise<RunResult> {
  await loop.log.append({ type: 'run.error', data: { code, message } });
  return finish(loop, 'failed', reason, { detail: message });
}

/**
 * A bug or a store failure escaped a step: recorded if the log still takes writes; the caller
 * surfaces the original error.
 */
export async function recordCrash(loop: Loop, error: unknown): Promise<void> {
  try {
    await failed(loop, 'internal_error', 'internal_error', errorMessage(error));
  } catch {
    // the store is gone; the caller gets the original error
  }
}
