import { errorMessage } from '../core/errors.ts';
import type { ToolErrorKind } from '../core/events.ts';
import type { JsonValue, ToolCall } from '../core/messages.ts';
import type { Decision } from '../policy/authorizer.ts';
import type { ApprovalResult, ToolGate } from '../policy/gate.ts';
import type { ToolProgress } from '../tools/tool.ts';

const ABORTED = Symbol('aborted');

export interface ToolOutcome {
  output: JsonValue;
  isError: boolean;
  errorKind?: ToolErrorKind;
  durationMs: number;
  /** The policy decision on the call, when a policy set made one. */
  decision?: Decision;
  /**
   * The call waited for a person's approval and the run stopped before an answer: it did
   * not run, nothing is to be logged for it, and it is asked again when the run resumes.
   */
  interrupted?: true;
}

/**
 * Runs one tool call through the gate: checks the tool exists and the arguments fit its
 * schema (errors go back to the model to repair), has the gate authorize it (a denial goes
 * back to the model as the result, and the call does not run), runs it with the run's abort
 * signal, and turns a throw into an error result. Throws only when authorizing fails (the
 * decision could not be made or recorded): then the call does not run.
 */
export async function runToolCall(
  call: ToolCall,
  gate: ToolGate,
  context: {
    runId: string;
    idempotencyKey: string;
    signal: AbortSignal;
    repeated?: boolean;
    onProgress?: (progress: ToolProgress) => void;
  },
): Promise<ToolOutcome> {
  let started = performance.now();
  const done = (outcome: Omit<ToolOutcome, 'durationMs'>): ToolOutcome => ({
    ...outcome,
    durationMs: Math.round(performance.now() - started),
  });
  const tool = gate.tool(call.name);
  if (!tool) {
    const known = gate.names.join(', ') || 'none';
    return done({
      output: `Unknown tool "${call.name}". Available tools: ${known}.`,
      isError: true,
      errorKind: 'unknown_tool',
    });
  }
  if (typeof call.input === 'string') {
    return done({
      output: `The arguments for ${call.name} are not valid JSON: ${call.input.slice(0, 200)}. Send a JSON object that matches the tool's input schema.`,
      isError: true,
      errorKind: 'validation',
    });
  }
  const checked = tool.validate(call.input);
  if (!checked.ok) {
    return done({
      output: `Invalid arguments for ${call.name}: ${checked.error}. Fix the arguments and call the tool again.`,
      isError: true,
      errorKind: 'validation',
    });
  }
  if (context.signal.aborted) return done(cancelled());
  const authorization = await gate.authorize(call, checked.value);
  // The call's duration is its own: not the time a person took to answer.
  if (authorization.approval) started = performance.now();
  if (authorization.effect === 'deny') {
    const approval = authorization.approval;
    if (approval?.outcome === 'interrupted' || approval?.outcome === 'cancelled') {
      if (context.signal.aborted) return done({ ...cancelled(), decision: authorization.decision });
      if (approval.outcome === 'interrupted') {
        return done({ output: '', isError: true, interrupted: true });
      }
    }
    return done({
      output: approval
        ? approvalRefusal(approval)
        : `Denied by policy: ${authorization.decision.reason}. The call did not run.`,
      isError: true,
      errorKind: 'denied',
      decision: authorization.decision,
    });
  }
  const decision = authorization.decision ? { decision: authorization.decision } : {};
  if (context.signal.aborted) return done(cancelled());
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<typeof ABORTED>((resolve) => {
    onAbort = () => resolve(ABORTED);
    context.signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const result = await Promise.race([
      gate.execute(authorization.permit, {
        signal: context.signal,
        runId: context.runId,
        callId: call.id,
        idempotencyKey: context.idempotencyKey,
        repeated: context.repeated ?? false,
        ...(context.onProgress ? { onProgress: context.onProgress } : {}),
      }),
      aborted,
    ]);
    if (result === ABORTED) return done({ ...cancelled(), ...decision });
    return done({ output: result, isError: false, ...decision });
  } catch (error) {
    if (context.signal.aborted) return done({ ...cancelled(), ...decision });
    // The whole message: a server's multi-line explanation is what lets the model repair.
    return done({
      output: `Error: ${fullMessage(error)}`,
      isError: true,
      errorKind: 'execution',
      ...decision,
    });
  } finally {
    if (onAbort) context.signal.removeEventListener('abort', onAbort);
  }
}

/** What the model is told when a person (or the clock) did not approve a call. */
function approvalRefusal(approval: ApprovalResult): string {
  switch (approval.outcome) {
    case 'denied':
      return `Denied by ${approval.by}${approval.reason ? `: ${approval.reason}` : ''} (approval ${approval.approvalId}). The call did not run.`;
    case 'timed_out':
      return `Denied: ${approval.reason ?? 'nobody approved the call in time'} (approval ${approval.approvalId}). The call did not run.`;
    case 'cancelled':
    case 'interrupted':
      return `The run stopped while the call waited for approval ${approval.approvalId}. The call did not run.`;
    case 'approved':
      return `Approved by ${approval.by}.`;
  }
}

const maxErrorChars = 20_000;

function fullMessage(error: unknown): string {
  const text =
    (error instanceof Error ? error.message : String(error)).trim() || errorMessage(error);
  return text.length > maxErrorChars
    ? `${text.slice(0, maxErrorChars)}… (${text.length - maxErrorChars} more characters)`
    : text;
}

function cancelled(): Omit<ToolOutcome, 'durationMs'> {
  return {
    output: 'Cancelled: the run was cancelled before this tool finished.',
    isError: true,
    errorKind: 'cancelled',
  };
}
