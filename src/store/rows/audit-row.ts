import type { AuditEntry, AuditRecord } from '../../core/audit.ts';
import type { Redactor } from '../../core/redact.ts';

/** A row of `audit_log`, the same in every store. */
export interface AuditRow {
  seq: number;
  at: string;
  run_id: string | null;
  call_id: string | null;
  principal: string;
  user_name: string;
  action: string;
  resource: string;
  input_digest: string;
  decision: string;
  effect: string;
  mode: string;
  policies: string;
  errors: string;
  reason: string;
  latency_us: number;
  prev_hash: string;
  hash: string;
}

/** The columns of `audit_log` in the order `auditValues` gives them. */
export const auditColumns = [
  'seq',
  'at',
  'run_id',
  'call_id',
  'principal',
  'user_name',
  'action',
  'resource',
  'input_digest',
  'decision',
  'effect',
  'mode',
  'policies',
  'errors',
  'reason',
  'latency_us',
  'prev_hash',
  'hash',
] as const;

/** A record's values for `auditColumns`. */
export function auditValues(record: AuditRecord): (string | number | null)[] {
  return [
    record.seq,
    record.at,
    record.runId,
    record.callId,
    record.principal,
    record.user,
    record.action,
    record.resource,
    record.inputDigest,
    record.decision,
    record.effect,
    record.mode,
    JSON.stringify(record.policies),
    JSON.stringify(record.errors),
    record.reason,
    record.latencyUs,
    record.prevHash,
    record.hash,
  ];
}

/** An entry with its free text redacted, as the chain then covers it. */
export function redactAudit(entry: AuditEntry, redact: Redactor): AuditEntry {
  return {
    ...entry,
    reason: redact(entry.reason),
    errors: entry.errors.map((e) => redact(e)),
  };
}

/** A row as it is stored (a row edited by hand keeps whatever it was given, for verify to catch). */
export function toAuditRecord(row: AuditRow): AuditRecord {
  return {
    seq: Number(row.seq),
    at: row.at,
    runId: row.run_id,
    callId: row.call_id,
    principal: row.principal,
    user: row.user_name,
    action: row.action,
    resource: row.resource,
    inputDigest: row.input_digest,
    decision: row.decision as AuditRecord['decision'],
    effect: row.effect as AuditRecord['effect'],
    mode: row.mode as AuditRecord['mode'],
    policies: parseList(row.policies),
    errors: parseList(row.errors),
    reason: row.reason,
    latencyUs: Number(row.latency_us),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function parseList(text: string): string[] {
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.map(String) : [text];
  } catch {
    return [text];
  }
}
