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
import type { PostgresAudit } from './postgres-audit.ts';
import { type PostgresConnection, placeholders } from './postgres-connection.ts';

/**
 * Requests for approval and their answers. An answer is one transaction with its audit entry
 * that locks the request's row first (`FOR UPDATE`), so of two people answering at once (in
 * any processes) the first wins and the second reads the request as the first closed it.
 */
export class PostgresApprovals implements ApprovalStore {
  readonly #c: PostgresConnection;
  readonly #redact: Redactor;
  readonly #audit: PostgresAudit;

  constructor(connection: PostgresConnection, redact: Redactor, audit: PostgresAudit) {
    this.#c = connection;
    this.#redact = redact;
    this.#audit = audit;
  }

  async requestApproval(request: ApprovalRequest): Promise<ApprovalRecord> {
    await this.#c.query(
      `INSERT INTO approvals (${approvalRequestColumns.join(', ')}, status)
       VALUES (${placeholders(approvalRequestColumns.length)}, 'pending')
       ON CONFLICT (run_id, call_id) DO NOTHING`,
      approvalRequestValues(request, this.#redact),
    );
    const [row] = await this.#c.query<ApprovalRow>(
      'SELECT * FROM approvals WHERE run_id = $1 AND call_id = $2',
      [request.runId, request.callId],
    );
    return toApproval(row!);
  }

  async getApproval(idOrPrefix: string): Promise<ApprovalRecord | undefined> {
    const [exact] = await this.#c.query<ApprovalRow>('SELECT * FROM approvals WHERE id = $1', [
      idOrPrefix,
    ]);
    if (exact) return toApproval(exact);
    const matches = await this.#c.query<ApprovalRow>(
      "SELECT * FROM approvals WHERE id LIKE $1 ESCAPE '\\' LIMIT 2",
      [`${escapeLike(idOrPrefix)}%`],
    );
    return matches.length === 1 ? toApproval(matches[0]!) : undefined;
  }

  async listApprovals(options: ListApprovalsOptions = {}): Promise<ApprovalRecord[]> {
    const where: string[] = [];
    const params: (string | number | null)[] = [];
    if (options.status !== undefined) {
      params.push(options.status);
      where.push(`status = $${params.length}`);
    }
    if (options.runId !== undefined) {
      params.push(options.runId);
      where.push(`run_id = $${params.length}`);
    }
    params.push(options.limit ?? null);
    const rows = await this.#c.query<ApprovalRow>(
      `SELECT * FROM approvals ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY requested_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toApproval);
  }

  async answerApproval(id: string, answer: ApprovalAnswer): Promise<AnswerResult | undefined> {
    return this.#c.transaction(async (tx) => {
      const [row] = await tx.query<ApprovalRow>(
        'SELECT * FROM approvals WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (!row) return undefined;
      const record = toApproval(row);
      if (record.status !== 'pending') return { answered: false, record };
      const { given, expired } = effectiveAnswer(record, answer, this.#redact);
      const audit = await this.#audit.insert(tx, answerAuditEntry(record, given));
      const [closed] = await tx.query<ApprovalRow>(
        `UPDATE approvals SET status = $1, answered_by = $2, answer_reason = $3, answered_at = $4,
         answer_audit_seq = $5 WHERE id = $6 RETURNING *`,
        [given.status, given.by, given.reason ?? null, given.at, audit.seq, id],
      );
      // A run waiting on it, in any process, hears of the answer at commit.
      await tx.query('SELECT pg_notify($1, $2)', [this.#c.channel('approvals'), id]);
      return { answered: !expired, record: toApproval(closed!) };
    });
  }
}
