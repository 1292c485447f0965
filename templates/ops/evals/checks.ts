import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineEvaluator } from 'agentd';

/** Asked for a change exactly when the incident calls for one, with its reason and effect. */
export const changeDiscipline = defineEvaluator({
  name: 'change_discipline',
  threshold: 1,
  evaluate({ events, case: c }) {
    const expect = c?.metadata?.expect_change;
    if (typeof expect !== 'boolean') return undefined;
    const asked = events.filter((e) => e.type === 'approval.requested' && !e.data.resumed);
    const explained = asked.filter((e) => {
      const input = e.data.input as { reason?: unknown; expected_effect?: unknown };
      return typeof input.reason === 'string' && typeof input.expected_effect === 'string';
    });
    const right = asked.length > 0 === expect && explained.length === asked.length;
    return {
      score: right ? 1 : 0,
      explanation: `${asked.length} change${asked.length === 1 ? '' : 's'} asked for (${explained.length} with reason and expected effect); ${expect ? 'one was' : 'none was'} called for`,
    };
  },
});

/** The system ends as the incident's outcome says (the change ran only when approved). */
export const finalState = defineEvaluator({
  name: 'final_state',
  threshold: 1,
  evaluate({ workdir, case: c }) {
    const expected = c?.metadata?.expected_state;
    if (!workdir || typeof expected !== 'string') return undefined;
    const status = readFileSync(join(workdir, 'demo-system', 'state', 'status'), 'utf8').trim();
    return {
      score: status.startsWith(expected) ? 1 : 0,
      explanation: `the service is "${status}"; expected "${expected}"`,
    };
  },
});

/** An incident report with a timeline of at least two entries and the right status. */
export const timelineReport = defineEvaluator({
  name: 'timeline_report',
  threshold: 1,
  evaluate({ run, case: c }) {
    const call = run.calls.findLast((x) => x.name === 'incident_report' && !x.isError);
    if (!call) return { score: 0, explanation: 'no incident_report' };
    const report = call.input as { status?: string; timeline?: unknown[] };
    const checks = [
      (report.timeline?.length ?? 0) >= 2,
      report.status === c?.metadata?.expected_report_status,
    ];
    return {
      score: checks.filter(Boolean).length / checks.length,
      explanation: `status ${report.status}, ${report.timeline?.length ?? 0} timeline entries`,
    };
  },
});
