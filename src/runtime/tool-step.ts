import type { NewEvent } from '../core/events.ts';
import type { ToolCall } from '../core/messages.ts';
import type { PendingCall } from '../core/run-state.ts';
import type { ToolProgress } from '../tools/tool.ts';
import { checkBudgets } from './budget-step.ts';
import { finish, stopped } from './finish.ts';
import { doubtfulCalls, needsAttention, safeToRepeat, skippedResult } from './in-doubt.ts';
import type { Loop, RunResult } from './loop-context.ts';
import { runToolCall } from './tool-runner.ts';

/**
 * The model asked for tools: every call is logged (durable before any runs, in one append; its
 * idempotency key is its own place in the log), unless a budget stops the run first.
 */
export async function logToolCalls(
  loop: Loop,
  calls: readonly ToolCall[],
): Promise<RunResult | undefined> {
  const over = await checkBudgets(
    loop,
    calls.map((c) => c.name),
    true,
  );
  if (over) return over;
  const firstSeq = loop.state.lastSeq + 1;
  await loop.log.append(
    ...calls.map(
      (call, i): NewEvent => ({
        type: 'tool.call',
        data: {
          callId: call.id,
          name: call.name,
          input: call.input,
          idempotencyKey: `${loop.runId}:${firstSeq + i}`,
        },
      }),
    ),
  );
  return undefined;
}

/**
 * Runs the calls logged without a result, in parallel, each through the gate, and logs each
 * result as it comes. Calls in doubt (`inDoubt`: they were running when the process stopped)
 * run again only when that is safe, or `decision` says so; otherwise the run waits for a
 * person (`run.needs_attention`). A tool that keeps getting invalid arguments fails the run
 * past `limits.maxToolRepairs`. Undefined when the run goes on to the model.
 */
export async function runPendingCalls(
  loop: Loop,
  inDoubt: Set<string>,
  decision: 'rerun' | 'skip' | undefined,
): Promise<RunResult | undefined> {
  const { state, log } = loop;
  const pending = [...state.pendingCalls.values()];
  const doubtful = doubtfulCalls(pending, inDoubt, loop.tools);
  if (doubtful.length > 0 && decision === undefined) {
    await log.append({ type: 'run.needs_attention', data: needsAttention(doubtful) });
    return { runId: loop.runId, state };
  }
  await Promise.all(
    pending.map((call) => runPendingCall(loop, call, inDoubt.has(call.callId), decision)),
  );
  inDoubt.clear();
  if (loop.signal.aborted) return await stopped(loop);
  for (const [name, count] of loop.repairs) {
    if (count > state.limits.maxToolRepairs) {
      return await finish(loop, 'failed', 'tool_arguments_invalid', {
        detail: `the model sent invalid arguments for ${name} ${count} times in a row (limits.max_tool_repairs is ${state.limits.maxToolRepairs})`,
      });
    }
  }
  return undefined;
}

async function runPendingCall(
  loop: Loop,
  call: PendingCall,
  repeated: boolean,
  decision: 'rerun' | 'skip' | undefined,
): Promise<void> {
  if (repeated && decision === 'skip' && !safeToRepeat(call, loop.tools)) {
    await loop.log.append({ type: 'tool.result', data: skippedResult(call) });
    return;
  }
  const outcome = await runToolCall(
    { id: call.callId, name: call.name, input: call.input },
    loop.gate,
    {
      runId: loop.runId,
      idempotencyKey: call.idempotencyKey,
      signal: loop.toolSignal,
      repeated,
      onProgress: progressRecorder(loop, call),
    },
  );
  // It waited for approval when the run stopped: it is asked again on resume.
  if (outcome.interrupted) return;
  await loop.log.append({
    type: 'tool.result',
    data: {
      callId: call.callId,
      name: call.name,
      output: outcome.output,
      isError: outcome.isError,
      ...(outcome.errorKind ? { errorKind: outcome.errorKind } : {}),
      durationMs: outcome.durationMs,
    },
  });
  const invalid = outcome.errorKind === 'validation' || outcome.errorKind === 'unknown_tool';
  loop.repairs.set(call.name, invalid ? (loop.repairs.get(call.name) ?? 0) + 1 : 0);
}

/**
 * Records a long call's progress as `tool.progress` events: at most one every half second
 * for a call, and always the one that says it is done. Recording never holds the call up.
 */
function progressRecorder(loop: Loop, call: PendingCall): (p: ToolProgress) => void {
  let last = 0;
  return (p) => {
    const at = loop.now();
    const done = p.total !== undefined && p.progress >= p.total;
    if (!done && at - last < 500) return;
    last = at;
    loop.log
      .append({
        type: 'tool.progress',
        data: {
          callId: call.callId,
          name: call.name,
          progress: p.progress,
          ...(p.total !== undefined ? { total: p.total } : {}),
          ...(p.message ? { message: p.message } : {}),
        },
      })
      .catch(() => undefined); // the result's append reports a dead store
  };
}
