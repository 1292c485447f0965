import type { DatabaseSync } from 'node:sqlite';
import {
  type AnswerResult,
  type ApprovalAnswer,
  type ApprovalRecord,
  type ApprovalRequest,
  type ApprovalStatus,
  answerAuditEntry,
} from '../../core/approval.ts';
import type { AuditEntry, AuditRecord } from '../../core/audit.ts';
import type { JsonValue } from '../../core/messages.ts';
import type { Redactor } from '../../core/redact.ts';
import type { ListApprovalsOptions } from '../store.ts';

interface ApprovalRow {
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

/**
 * Requests for approval and their answers (migration 8), over the store's connection. An
 * answer is one transaction with its audit entry: `UPDATE ... WHERE status = 'pending'` under
 * SQLite's write lock, so of two people answering at once (in any processes) the first wins.
 */
export class SqliteApprovals {
  readonly #db: DatabaseSync;
  readonly #redact: Redactor;
  /** Appends an audit entry inside the caller's transaction. */
  readonly #insertAudit: (entry: AuditEntry) => AuditRecord;

  constructor(db: DatabaseSync, redact: Redactor, insertAudit: (entry: AuditEntry) => AuditRecord) {
    this.#db = db;
    this.#redact = redact;
    this.#insertAudit = insertAudit;
  }

  request(request: ApprovalRequest): ApprovalRecord {
    this.#db
      .prepare(
        `INSERT INTO approvals (id, run_id, call_id, agent, tool, action, principal, user_name,
         resource, input, input_digest, mode, policies, reason, requested_at, expires_at,
         audit_seq, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')
         ON CONFLICT (run_id, call_id) DO NOTHING`,
      )
      .run(
        request.id,
        request.runId,
        request.callId,
        request.agent,
        request.tool,
        request.action,
        request.principal,
        request.user,
        request.resource,
        this.#redact(JSON.stringify(request.input)),
        request.inputDigest,
        request.mode,
        JSON.stringify(request.policies),
        this.#redact(request.reason),
        request.requestedAt,
        request.expiresAt,
        request.auditSeq,
      );
    const row = this.#db
      .prepare('SELECT * FROM approvals WHERE run_id = ? AND call_id = ?')
      .get(request.runId, request.callId) as unknown as ApprovalRow;
    return toRecord(row);
  }

  get(idOrPrefix: string): ApprovalRecord | undefined {
    const exact = this.#db.prepare('SELECT * FROM approvals WHERE id = ?').get(idOrPrefix) as
      | ApprovalRow
      | undefined;
    if (exact) return toRecord(exact);
    const escaped = idOrPrefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    const matches = this.#db
      .prepare("SELECT * FROM approvals WHERE id LIKE ? ESCAPE '\\' LIMIT 2")
      .all(`${escaped}%`) as unknown as ApprovalRow[];
    return matches.length === 1 ? toRecord(matches[0]!) : undefined;
  }

  list(options: ListApprovalsOptions = {}): ApprovalRecord[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (options.status !== undefined) {
      where.push('status = ?');
      params.push(options.status);
    }
    if (options.runId !== undefined) {
      where.push('run_id = ?');
      params.push(options.runId);
    }
    const rows = this.#db
      .prepare(
        `SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY requested_at DESC, id DESC LIMIT ?`,
      )
      .all(...params, options.limit ?? -1) as unknown as ApprovalRow[];
    return rows.map(toRecord);
  }

  answer(id: string, answer: ApprovalAnswer): AnswerResult | undefined {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const select = this.#db.prepare('SELECT * FROM approvals WHERE id = ?');
      const row = select.get(id) as ApprovalRow | undefined;
      if (!row) {
        this.#db.exec('COMMIT');
        return undefined;
      }
      const record = toRecord(row);
      if (record.status !== 'pending') {
        this.#db.exec('COMMIT');
        return { answered: false, record };
      }
      // Past its expiry a request is denied, whoever answers now.
      const expired = answer.status !== 'timed_out' && answer.at >= record.expiresAt;
      const given: ApprovalAnswer = expired
        ? {
            status: 'timed_out',
            by: 'agentd',
            reason: `no answer by ${record.expiresAt}`,
            at: answer.at,
          }
        : { ...answer, ...(answer.reason ? { reason: this.#redact(answer.reason) } : {}) };
      const audit = this.#insertAudit(answerAuditEntry(record, given));
      this.#db
        .prepare(
          `UPDATE approvals SET status = ?, answered_by = ?, answer_reason = ?, answered_at = ?,
           answer_audit_seq = ? WHERE id = ? AND status = 'pending'`,
        )
        .run(given.status, given.by, given.reason ?? null, given.at, audit.seq, id);
      this.#db.exec('COMMIT');
      const closed = toRecord(select.get(id) as unknown as ApprovalRow);
      return { answered: !expired, record: closed };
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }
}

function toRecord(row: ApprovalRow): ApprovalRecord {
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
    auditSeq: row.audit_seq,
    status: row.status as ApprovalStatus,
    ...(row.answered_by !== null ? { answeredBy: row.answered_by } : {}),
    ...(row.answer_reason !== null ? { answerReason: row.answer_reason } : {}),
    ...(row.answered_at !== null ? { answeredAt: row.answered_at } : {}),
    ...(row.answer_audit_seq !== null ? { answerAuditSeq: row.answer_audit_seq } : {}),
  };
}
