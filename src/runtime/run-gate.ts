import { defaultApprovalTimeoutMs } from '../core/approval.ts';
import type { EventOf } from '../core/events.ts';
import { auditEntryOf, type Decision, permissiveAuthorizer } from '../policy/authorizer.ts';
import { ToolGate } from '../policy/gate.ts';
import type { Store } from '../store/store.ts';
import type { AgentDefinition } from './agent-definition.ts';
import { ApprovalDesk } from './approvals.ts';
import type { RunLog } from './run-log.ts';
import { suspending } from './run-suspension.ts';

/**
 * The gate a run's tool calls go through: each call authorized, its decision in the audit log
 * and the run log (`policy.decision`) before it may run; a call the policies allow only with
 * a person's approval waits for it at the run's approval desk.
 */
export function openRunGate(options: {
  agent: AgentDefinition;
  store: Store;
  log: RunLog;
  signal: AbortSignal;
  now: () => number;
}): ToolGate {
  const { agent, store, log, signal, now } = options;
  const runPolicy = (agent.policy ?? permissiveAuthorizer).policy;
  const approvals = new ApprovalDesk({
    store,
    log,
    signal,
    suspending: () => suspending(signal),
    timeoutMs:
      (runPolicy.mode === 'none' ? undefined : runPolicy.approvalTimeoutMs) ??
      defaultApprovalTimeoutMs,
    now,
  });
  const recordDecision = async (decision: Decision, call: { id: string; name: string }) => {
    const audit = await store.appendAudit(
      auditEntryOf(decision, {
        at: new Date(now()).toISOString(),
        runId: log.runId,
        callId: call.id,
      }),
    );
    approvals.recorded(call.id, audit.seq);
    await log.append({ type: 'policy.decision', data: decisionData(call, decision, audit.seq) });
  };
  return new ToolGate(agent.tools, agent.policy, recordDecision, approvals);
}

/** A decision as the run log records it, pointing at its audit entry. */
export function decisionData(
  call: { id: string; name: string },
  d: Decision,
  auditSeq: number,
): EventOf<'policy.decision'>['data'] {
  return {
    callId: call.id,
    name: call.name,
    action: d.action,
    principal: d.principal,
    resource: d.resource,
    decision: d.decision,
    effect: d.effect,
    mode: d.mode,
    policies: d.policies,
    ...(d.approvalPolicies ? { approvalPolicies: d.approvalPolicies } : {}),
    ...(d.errors.length ? { errors: d.errors } : {}),
    reason: d.reason,
    ...(d.logOnly ? { logOnly: d.logOnly } : {}),
    inputDigest: d.inputDigest,
    latencyUs: d.latencyUs,
    auditSeq,
  };
}
