import type { PolicyDecisionData, RunPolicy } from '../core/events.ts';

/** A run's policy set in one phrase: `none (...)` or the folder, mode and count. */
export function describePolicy(policy: RunPolicy | undefined): string {
  if (!policy) return 'none recorded (a run from before policies)';
  if (policy.mode === 'none') return `none (${policy.message})`;
  const logOnly = policy.logOnlyPolicies ? `, ${policy.logOnlyPolicies} log-only` : '';
  return `${policy.dir} (${policy.mode === 'log_only' ? 'log only: records, blocks nothing' : 'enforced'}, ${policy.policies} polic${policy.policies === 1 ? 'y' : 'ies'}${logOnly}, version ${policy.version.slice(0, 12)})`;
}

/** A decision in one line: what was decided on what, by which policies, and why. */
export function describeDecision(d: PolicyDecisionData): string {
  const verdict =
    d.mode === 'log_only' && d.decision !== 'allow'
      ? `would ${d.decision === 'deny' ? 'deny' : 'need approval'} (log only; allowed)`
      : d.decision === 'deny'
        ? 'DENY'
        : d.decision === 'needs_approval'
          ? 'NEEDS APPROVAL'
          : 'allow';
  const shadow = d.logOnly
    ? ` · log-only policies would ${d.logOnly.decision}${d.logOnly.policies.length ? ` (${d.logOnly.policies.join(', ')})` : ''}`
    : '';
  return `${verdict} ${d.action} on ${d.resource}: ${d.reason}${shadow} · ${d.latencyUs} µs · audit #${d.auditSeq} [${d.callId}]`;
}
