import { AgentdError } from '../core/errors.ts';
import { leaseIsLive, thisProcess } from '../runtime/run-lease.ts';
import type { Store } from '../store/store.ts';
import type { TeamRecord, TeamRunRecord } from '../store/team-store.ts';

/**
 * The team to resume and its members' runs, once it is known that it can be: it exists, has
 * not completed, no other live process drives it, and every run is of a member the team
 * still has. Otherwise one line saying what to do.
 */
export async function resumableTeam(
  store: Store,
  teamId: string,
  members: ReadonlyMap<string, unknown>,
): Promise<{ team: TeamRecord; runs: TeamRunRecord[] }> {
  const team = await store.teams.getTeam(teamId);
  if (!team) {
    throw new AgentdError('run_not_found', `no team "${teamId}": see agentd team list`);
  }
  if (team.status === 'completed') {
    throw new AgentdError(
      'run_not_resumable',
      `team ${team.id} already completed; there is nothing to resume`,
    );
  }
  // Another process driving the team holds its lead's run: two would settle tasks twice.
  const lease = await store.getLease(team.leadRunId);
  if (lease && lease.owner !== thisProcess && leaseIsLive(lease)) {
    throw new AgentdError(
      'run_busy',
      `team ${team.id} is being run by process ${lease.owner}; stop that process first (or wait for it to finish)`,
    );
  }
  const runs = await store.teams.listTeamRuns(team.id);
  for (const run of runs) {
    if (!members.has(run.member)) {
      throw new AgentdError(
        'spec_invalid',
        `team ${team.id}: its run ${run.runId} is of member "${run.member}", which ${team.specPath || 'the team'} no longer has; restore the role to resume the team`,
      );
    }
  }
  return { team, runs };
}
