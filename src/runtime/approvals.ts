import { type ApprovalRecord, formatWait } from '../core/approval.ts';
import type { ApprovalAnsweredData } from '../core/events.ts';
import { newId } from '../core/ids.ts';
import type { JsonValue } from '../core/messages.ts';
import type { Decision } from '../policy/authorizer.ts';
import type { ApprovalResult, Approver, GateCall } from '../policy/gate.ts';
import type { Store } from '../store/store.ts';
import type { RunLog } from './run-log.ts';

export interface ApprovalDeskOptions {
  store: Store;
  log: RunLog;
  /** The run's signal: a wait ends when it aborts. */
  signal: AbortSignal;
  /** True when the signal stopped the run to suspend it: its requests stay open for the resume. */
  suspending: () => boolean;
  /** How long a new request waits for an answer before it is denied. */
  timeoutMs: number;
  now: () => number;
  /** How often the store is asked for an answer (default 250 ms). */
  pollMs?: number;
}

/**
 * Where a run asks people to approve its calls. A request is a row in the store (any process
 * may answer it: `agentd approvals`, the HTTP API) and an `approval.requested` event; the run
 * waits until an answer, the request's expiry (which denies it), or the run stops: told of the
 * answer by a store that tells of changes (Postgres, NOTIFY), asking the store every `pollMs`
 * otherwise (SQLite). A run resumed while a call waited finds the call's request again (one
 * request per call) and honours an answer given while it was down.
 */
export class ApprovalDesk implements Approver {
  readonly #options: ApprovalDeskOptions;
  /** The audit entry of the latest decision on each call: the request points to it. */
  readonly #audited = new Map<string, number>();

  constructor(options: ApprovalDeskOptions) {
    this.#options = options;
  }

  /** Notes where a call's decision went in the audit log (the recorder calls this). */
  recorded(callId: string, auditSeq: number): void {
    this.#audited.set(callId, auditSeq);
  }

  async ask(decision: Decision, call: GateCall): Promise<ApprovalResult> {
    const { store, log, now } = this.#options;
    const at = new Date(now());
    const id = newId('apr', at.getTime());
    const record = await store.requestApproval({
      id,
      runId: log.runId,
      callId: call.id,
      agent: log.state.agent,
      tool: call.name,
      action: decision.action,
      principal: decision.principal,
      user: decision.user,
      resource: decision.resource,
      input: (call.input ?? {}) as JsonValue,
      inputDigest: decision.inputDigest,
      mode: decision.mode,
      policies: decision.approvalPolicies ?? [],
      reason: decision.reason,
      requestedAt: at.toISOString(),
      expiresAt: new Date(at.getTime() + this.#options.timeoutMs).toISOString(),
      auditSeq: this.#audited.get(call.id) ?? 0,
    });
    let closed = record;
    if (record.status === 'pending') {
      await log.append({
        type: 'approval.requested',
        data: {
          approvalId: record.id,
          callId: call.id,
          name: call.name,
          action: record.action,
          resource: record.resource,
          input: record.input,
          policies: record.policies,
          reason: record.reason,
          expiresAt: record.expiresAt,
          auditSeq: record.auditSeq,
          ...(record.id !== id ? { resumed: true as const } : {}),
        },
      });
      const waited = await this.#wait(record);
      if (!waited) {
        if (this.#options.suspending()) return { outcome: 'interrupted', approvalId: record.id };
        const cancelled = await store.answerApproval(record.id, {
          status: 'cancelled',
          by: 'agentd',
          reason: 'the run was cancelled',
          at: new Date(now()).toISOString(),
        });
        closed = cancelled?.record ?? record;
      } else {
        closed = waited;
      }
    }
    return this.#settle(closed, call);
  }

  async release(call: GateCall): Promise<void> {
    const { store, log, now } = this.#options;
    if (log.state.pendingCalls.get(call.id)?.approval !== 'requested') return;
    const [open] = (await store.listApprovals({ runId: log.runId })).filter(
      (a) => a.callId === call.id,
    );
    if (!open) return;
    await store.answerApproval(open.id, {
      status: 'withdrawn',
      by: 'agentd',
      reason: 'the call was decided again without needing approval',
      at: new Date(now()).toISOString(),
    });
    await log.append({
      type: 'approval.answered',
      data: {
        approvalId: open.id,
        callId: call.id,
        name: call.name,
        answer: 'withdrawn',
        by: 'agentd',
        reason: 'the call was decided again without needing approval',
        othersWaiting: this.#othersWaiting(call.id),
      },
    });
  }

  /**
   * Waits for the request to be closed: by an answer, or by its expiry (then this run closes
   * it, unless someone answered first). Undefined when the run stopped first.
   */
  async #wait(request: ApprovalRecord): Promise<ApprovalRecord | undefined> {
    const { store } = this.#options;
    // A store that tells of answers (Postgres) wakes the wait at once; others are asked again.
    const answered = new AbortController();
    const unsubscribe = await store
      .subscribe?.('approvals', (id) => {
        if (id === request.id) answered.abort();
      })
      .catch(() => undefined);
    const woken = AbortSignal.any([this.#options.signal, answered.signal]);
    const pollMs = unsubscribe ? Number.POSITIVE_INFINITY : (this.#options.pollMs ?? 250);
    try {
      return await this.#poll(request, woken, pollMs);
    } finally {
      unsubscribe?.();
    }
  }

  async #poll(
    request: ApprovalRecord,
    woken: AbortSignal,
    pollMs: number,
  ): Promise<ApprovalRecord | undefined> {
    const { store, signal, now } = this.#options;
    const expires = Date.parse(request.expiresAt);
    for (;;) {
      if (signal.aborted) return undefined;
      const current = await store.getApproval(request.id);
      if (!current) throw new Error(`approval ${request.id} is gone from the store`);
      if (current.status !== 'pending') return current;
      const left = expires - now();
      if (left <= 0) {
        const timedOut = await store.answerApproval(request.id, {
          status: 'timed_out',
          by: 'agentd',
          reason: `no answer within ${formatWait(expires - Date.parse(request.requestedAt))}`,
          at: new Date(now()).toISOString(),
        });
        if (timedOut) return timedOut.record;
        continue;
      }
      // (a timer holds at most 2^31 - 1 ms)
      await sleep(Math.min(pollMs, left, 2 ** 31 - 1), woken);
    }
  }

  /** Logs how the request ended (once), and says what it means for the call. */
  async #settle(record: ApprovalRecord, call: GateCall): Promise<ApprovalResult> {
    const answer = record.status as ApprovalAnsweredData['answer'];
    const known = this.#options.log.state.pendingCalls.get(call.id)?.approval;
    const logged =
      (known === 'approved' && answer === 'approved') ||
      (known === 'refused' && answer !== 'approved');
    if (!logged) {
      await this.#options.log.append({
        type: 'approval.answered',
        data: {
          approvalId: record.id,
          callId: call.id,
          name: call.name,
          answer,
          by: record.answeredBy ?? 'agentd',
          ...(record.answerReason ? { reason: record.answerReason } : {}),
          ...(record.answerAuditSeq !== undefined ? { auditSeq: record.answerAuditSeq } : {}),
          othersWaiting: this.#othersWaiting(call.id),
        },
      });
    }
    const by = record.answeredBy ?? 'agentd';
    const reason = record.answerReason ? { reason: record.answerReason } : {};
    switch (record.status) {
      case 'approved':
      case 'denied':
      case 'timed_out':
      case 'cancelled':
        return { outcome: record.status, approvalId: record.id, by, ...reason };
      default:
        // withdrawn (or still pending, which #wait never returns): not an approval
        return {
          outcome: 'denied',
          approvalId: record.id,
          by,
          reason: `the request was ${record.status}`,
        };
    }
  }

  #othersWaiting(callId: string): number {
    let count = 0;
    for (const call of this.#options.log.state.pendingCalls.values()) {
      if (call.callId !== callId && call.approval === 'requested') count++;
    }
    return count;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
