import type {
  ApprovalAnswer,
  ApprovalRecord,
  ApprovalRequest,
  ApprovalStatus,
} from '../../core/approval.ts';
import type { JsonValue } from '../../core/messages.ts';
import type { Redactor } from '../../core/redact.ts';

/** A row of `approvals`, the same in every store. */
export interface ApprovalRow {
  id: string;
  run_id: string;
  call_id: string;
  agent: string;
  tool: string;
  action: string;
  principal: string;
  user_name: string;
  resource: string;
  input: string;
  input_digest: string;
  mode: string;
  policies: string;
  reason: string;
  requested_at: string;
  expires_at: string;
  audit_seq: number;
  status: string;
  answered_by: string | null;
  answer_reason: string | null;
  answered_at: string | null;
  answer_audit_seq: number | null;
}

/** The values of a new request, in the order of `approvalRequestColumns`, redacted. */
export const approvalRequestColumns = [
  'id',
  'run_id',
  'call_id',
  'agent',
  'tool',
  'action',
  'principal',
  'user_name',
  'resource',
  'input',
  'input_digest',
  'mode',
  'policies',
  'reason',
  'requested_at',
  'expires_at',
  'audit_seq',
] as const;

export function approvalRequestValues(
  request: ApprovalRequest,
  redact: Redactor,
): (string | number)[] {
  return [
    request.id,
    request.runId,
    request.callId,
    request.agent,
    request.tool,
    request.action,
    request.principal,
    request.user,
    request.resource,
    redact(JSON.stringify(request.input)),
    request.inputDigest,
    request.mode,
    JSON.stringify(request.policies),
    redact(request.reason),
    request.requestedAt,
    request.expiresAt,
    request.auditSeq,
  ];
}

/**
 * The answer a pending request takes: past its expiry it is denied as `timed_out`, whoever
 * answers now; otherwise the answer given, its reason redacted.
 */
export function effectiveAnswer(
  record: ApprovalRecord,
  answer: ApprovalAnswer,
  redact: Redactor,
): { given: ApprovalAnswer; expired: boolean } {
  const expired = answer.status !== 'timed_out' && answer.at >= record.expiresAt;
  const given: ApprovalAnswer = expired
    ? {
        status: 'timed_out',
        by: 'agentd',
        reason: `no answer by ${record.expiresAt}`,
        at: answer.at,
      }
    : { ...answer, ...(answer.reason ? { reason: redact(answer.reason) } : {}) };
  return { given, expired };
}

export function toApproval(row: ApprovalRow): ApprovalRecord {
  let input: JsonValue;
  try {
    input = JSON.parse(row.input) as JsonValue;
  } catch {
    input = row.input;
  }
  let policies: string[];
  try {
    policies = (JSON.parse(row.policies) as unknown[]).map(String);
  } catch {
    policies = [row.policies];
  }
  return {
    id: row.id,
    runId: row.run_id,
    callId: row.call_id,
    agent: row.agent,
    tool: row.tool,
    action: row.action,
    principal: row.principal,
    user: row.user_name,
    resource: row.resource,
    input,
    inputDigest: row.input_digest,
    mode: row.mode as ApprovalRecord['mode'],
    policies,
    reason: row.reason,
    requestedAt: row.requested_at,
    expiresAt: row.expires_at,
    auditSeq: Number(row.audit_seq),
    status: row.status as ApprovalStatus,
    ...(row.answered_by !== null ? { answeredBy: row.answered_by } : {}),
    ...(row.answer_reason !== null ? { answerReason: row.answer_reason } : {}),
    ...(row.answered_at !== null ? { answeredAt: row.answered_at } : {}),
    ...(row.answer_audit_seq !== null ? { answerAuditSeq: Number(row.answer_audit_seq) } : {}),
  };
}
