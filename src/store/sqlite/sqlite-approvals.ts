import {
  type AnswerResult,
  type ApprovalAnswer,
  type ApprovalRecord,
  type ApprovalRequest,
  answerAuditEntry,
} from '../../core/approval.ts';
import type { Redactor } from '../../core/redact.ts';
import {
  type ApprovalRow,
  approvalRequestColumns,
  approvalRequestValues,
  effectiveAnswer,
  toApproval,
} from '../rows/approval-row.ts';
import { escapeLike } from '../rows/run-row.ts';
import type { ApprovalStore, ListApprovalsOptions } from '../store.ts';
import type { SqliteAudit } from './sqlite-audit.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/**
 * Requests for approval and their answers. An answer is one transaction with its audit entry:
 * `UPDATE ... WHERE status = 'pending'` under SQLite's write lock, so of two people answering
 * at once (in any processes) the first wins.
 */
export class SqliteApprovals implements ApprovalStore {
  readonly #c: SqliteConnection;
  readonly #redact: Redactor;
  readonly #audit: SqliteAudit;

  constructor(connection: SqliteConnection, redact: Redactor, audit: SqliteAudit) {
    this.#c = connection;
    this.#redact = redact;
    this.#audit = audit;
  }

  async requestApproval(request: ApprovalRequest): Promise<ApprovalRecord> {
    this.#c
      .prepare(
        `INSERT INTO approvals (${approvalRequestColumns.join(', ')}, status)
         VALUES (${approvalRequestColumns.map(() => '?').join(', ')}, 'pending')
         ON CONFLICT (run_id, call_id) DO NOTHING`,
      )
      .run(...approvalRequestValues(request, this.#redact));
    const row = this.#c
      .prepare('SELECT * FROM approvals WHERE run_id = ? AND call_id = ?')
      .get(request.runId, request.callId) as unknown as ApprovalRow;
    return toApproval(row);
  }

  async getApproval(idOrPrefix: string): Promise<ApprovalRecord | undefined> {
    const exact = this.#c.prepare('SELECT * FROM approvals WHERE id = ?').get(idOrPrefix) as
      | ApprovalRow
      | undefined;
    if (exact) return toApproval(exact);
    const matches = this.#c
      .prepare("SELECT * FROM approvals WHERE id LIKE ? ESCAPE '\\' LIMIT 2")
      .all(`${escapeLike(idOrPrefix)}%`) as unknown as ApprovalRow[];
    return matches.length === 1 ? toApproval(matches[0]!) : undefined;
  }

  async listApprovals(options: ListApprovalsOptions = {}): Promise<ApprovalRecord[]> {
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
    const rows = this.#c
      .prepare(
        `SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY requested_at DESC, id DESC LIMIT ?`,
      )
      .all(...params, options.limit ?? -1) as unknown as ApprovalRow[];
    return rows.map(toApproval);
  }

  async answerApproval(id: string, answer: ApprovalAnswer): Promise<AnswerResult | undefined> {
    const select = this.#c.prepare('SELECT * FROM approvals WHERE id = ?');
    return this.#c.transaction(() => {
      const row = select.get(id) as ApprovalRow | undefined;
      if (!row) return undefined;
      const record = toApproval(row);
      if (record.status !== 'pending') return { answered: false, record };
      const { given, expired } = effectiveAnswer(record, answer, this.#redact);
      const audit = this.#audit.insert(answerAuditEntry(record, given));
      this.#c
        .prepare(
          `UPDATE approvals SET status = ?, answered_by = ?, answer_reason = ?, answered_at = ?,
           answer_audit_seq = ? WHERE id = ? AND status = 'pending'`,
        )
        .run(given.status, given.by, given.reason ?? null, given.at, audit.seq, id);
      const closed = toApproval(select.get(id) as unknown as ApprovalRow);
      return { answered: !expired, record: closed };
    });
  }
}
