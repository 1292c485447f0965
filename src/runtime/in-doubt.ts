import type { NeedsAttentionData, ToolResultData } from '../core/events.ts';
import type { PendingCall } from '../core/run-state.ts';
import type { Tool } from '../tools/tool.ts';

/**
 * Tool calls in doubt: logged, without a result, when the process driving the run stopped.
 * Whether running one again is safe is the tool's to say; a person decides for the rest.
 */

/** A call whose effect is safe to cause again, or that the tool itself dedupes by key. */
export function safeToRepeat(call: PendingCall, tools: ReadonlyMap<string, Tool>): boolean {
  // waiting for a person's approval, or refused it: it never ran
  if (call.approval === 'requested' || call.approval === 'refused') return true;
  const tool = tools.get(call.name);
  if (!tool) return true; // an unknown tool never ran
  if (typeof call.input === 'string' || !tool.validate(call.input).ok) return true; // never ran either
  return tool.idempotent === true || tool.checksIdempotencyKey === true;
}

/** The in-doubt calls it is not safe to run again without a person's say. */
export function doubtfulCalls(
  pending: readonly PendingCall[],
  inDoubt: ReadonlySet<string>,
  tools: ReadonlyMap<string, Tool>,
): PendingCall[] {
  return pending.filter((call) => inDoubt.has(call.callId) && !safeToRepeat(call, tools));
}

/** What `run.needs_attention` says of doubtful calls: which, why, and the two ways on. */
export function needsAttention(doubtful: readonly PendingCall[]): NeedsAttentionData {
  const one = doubtful.length === 1;
  return {
    message: `the run stopped while ${doubtful.map((c) => c.name).join(', ')} ran; ${one ? 'it is' : 'they are'} not idempotent and ${one ? 'does' : 'do'} not check an idempotency key, so ${one ? 'its' : 'their'} outcome is unknown: resume with --rerun-in-doubt to run ${one ? 'it' : 'them'} again, or --skip-in-doubt to tell the agent ${one ? 'it' : 'they'} may or may not have happened`,
    calls: doubtful.map(({ callId, name, input, idempotencyKey }) => ({
      callId,
      name,
      input,
      idempotencyKey,
    })),
  };
}

/** The result a skipped in-doubt call gets (`--skip-in-doubt`): it may or may not have run. */
export function skippedResult(call: PendingCall): ToolResultData {
  return {
    callId: call.callId,
    name: call.name,
    output: `The run was interrupted while ${call.name} ran, and it was not repeated: it may or may not have taken effect. Check before relying on it.`,
    isError: true,
    errorKind: 'in_doubt',
    durationMs: 0,
  };
}
