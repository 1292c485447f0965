import type { ApprovalOutcome, AuditEntry } from './audit.ts';
import type { JsonValue } from './messages.ts';

/**
 * Human approval of tool calls: a permit annotated `@approval("required")` makes a call it
 * allows wait for a person's answer. Requests and answers live in the store (so any process
 * can answer, and a run killed while waiting finds its request again), and each answer is an
 * audit entry.
 */

/** How long a request waits for an answer when the spec does not say (`policy.approval_timeout`). */
export const defaultApprovalTimeoutMs = 60 * 60_000;

/** `pending` until answered; every other status is final. */
export type ApprovalStatus = 'pending' | ApprovalOutcome;

/** What a run asks a person, as it is stored. */
export interface ApprovalRequest {
  /** `apr_...` */
  id: string;
  runId: string;
  callId: string;
  /** The agent's name. */
  agent: string;
  /** The tool as the model named it. */
  tool: string;
  /** The Cedar action, e.g. `fs.write`. */
  action: string;
  principal: string;
  /** The person the run acts for. */
  user: string;
  /** The resources the call touches, as Cedar ids. */
  resource: string;
  /** The call's arguments, as the run log holds them (secrets redacted). */
  input: JsonValue;
  inputDigest: string;
  mode: 'enforce' | 'log_only';
  /** The policies that require the approval. */
  policies: string[];
  /** Why it is asked, in one line. */
  reason: string;
  requestedAt: string;
  /** When an unanswered request is denied. */
  expiresAt: string;
  /** The audit entry of the decision that asked. */
  auditSeq: number;
}

export interface ApprovalRecord extends ApprovalRequest {
  status: ApprovalStatus;
  /** Who answered (`agentd` for a timeout, a cancellation or a withdrawal). */
  answeredBy?: string;
  /** Why, as the answer gave it. */
  answerReason?: string;
  answeredAt?: string;
  /** The audit entry of the answer. */
  answerAuditSeq?: number;
}

/** An answer to a pending request. */
export interface ApprovalAnswer {
  status: ApprovalOutcome;
  by: string;
  reason?: string;
  at: string;
}

/**
 * The result of answering: `answered` when this answer closed the request; otherwise the
 * request was already closed (by someone else first, or by its timeout) and `record` says how.
 */
export type AnswerResult =
  | { answered: true; record: ApprovalRecord }
  | { answered: false; record: ApprovalRecord };

/** The audit entry that closes a request: the same call, principal and resources, the answer. */
export function answerAuditEntry(request: ApprovalRequest, answer: ApprovalAnswer): AuditEntry {
  return {
    at: answer.at,
    runId: request.runId,
    callId: request.callId,
    principal: request.principal,
    user: request.user,
    action: request.action,
    resource: request.resource,
    inputDigest: request.inputDigest,
    decision: answer.status,
    effect: answer.status === 'approved' ? 'allow' : 'deny',
    mode: request.mode,
    policies: request.policies,
    errors: [],
    reason: `approval ${request.id}: ${describeAnswer(answer)}`,
    latencyUs: Math.max(0, Date.parse(answer.at) - Date.parse(request.requestedAt)) * 1000,
  };
}

/** A wait in the largest units that say it: `30m`, `1h30m`, `45s`. */
export function formatWait(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const parts = [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].filter(Boolean);
  return parts.length ? parts.join('') : `${Math.max(0, Math.round(ms))}ms`;
}

/** An answer in a few words: `approved by alice`, `denied by bob: too broad`, ... */
export function describeAnswer(answer: Pick<ApprovalAnswer, 'status' | 'by' | 'reason'>): string {
  const why = answer.reason ? `: ${answer.reason}` : '';
  switch (answer.status) {
    case 'approved':
      return `approved by ${answer.by}${why}`;
    case 'denied':
      return `denied by ${answer.by}${why}`;
    case 'timed_out':
      return `nobody answered in time${why}`;
    case 'cancelled':
      return `the run was cancelled while it waited${why}`;
    case 'withdrawn':
      return `withdrawn${why}`;
  }
}

/**
 * What a call says about itself for the person asked to approve it: the command it runs and
 * the `reason` and `expected_effect` it gives (the shell connector's fields), when it has them.
 */
export function statedIntent(input: unknown): { label: string; text: string }[] {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return [];
  const fields = input as Record<string, unknown>;
  const lines: { label: string; text: string }[] = [];
  for (const [key, label] of [
    ['command', 'command'],
    ['reason', 'reason'],
    ['expected_effect', 'expected effect'],
  ] as const) {
    const value = fields[key];
    if (typeof value === 'string' && value.trim()) lines.push({ label, text: value });
  }
  return lines.length > 1 || lines[0]?.label !== 'command' ? lines : [];
}
