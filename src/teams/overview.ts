import type { Store } from '../store/store.ts';
import type { TeamEvent, TeamMessage, TeamRecord, TeamTask } from '../store/team-store.ts';
import { priorActiveMs, TeamMeter, type TeamUsage } from './budget.ts';

/** One run of a member (the lead's too), with what it spent. */
export interface MemberRun {
  member: string;
  runId: string;
  task?: string;
  /** The run's status, or `not started` for a claimed task whose run has no event yet. */
  status: string;
  turns: number;
  tokens: number;
  /** Null when a model had no known price. */
  costUsd: number | null;
}

/** A team as `agentd team show` and the console show it: board, members' runs, messages, log. */
export interface TeamOverview {
  team: TeamRecord;
  usage: TeamUsage;
  tasks: TeamTask[];
  runs: MemberRun[];
  messages: TeamMessage[];
  log: TeamEvent[];
}

/** Everything the store knows of a team, folded from its log and its members' runs. */
export async function teamOverview(store: Store, team: TeamRecord): Promise<TeamOverview> {
  const [tasks, log, linked] = await Promise.all([
    store.teams.listTasks(team.id),
    store.teams.readTeamEvents(team.id),
    store.teams.listTeamRuns(team.id),
  ]);
  const meter = new TeamMeter();
  const runs: MemberRun[] = [];
  for (const run of [{ runId: team.leadRunId, member: 'lead', taskId: undefined }, ...linked]) {
    const [events, summary] = await Promise.all([
      store.readEvents(run.runId),
      store.getRun(run.runId),
    ]);
    const one = new TeamMeter();
    for (const event of events) {
      meter.add(event);
      one.add(event);
    }
    const use = one.usage(0);
    runs.push({
      member: run.member,
      runId: run.runId,
      ...(run.taskId ? { task: run.taskId } : {}),
      status: summary?.status ?? 'not started',
      turns: use.turns,
      tokens: use.tokens,
      costUsd: use.costKnown ? use.costUsd : null,
    });
  }
  const messages = log
    .filter((e) => e.type === 'message')
    .map((m) => ({ seq: m.seq, at: m.at, ...m.data }) as TeamMessage);
  return { team, usage: meter.usage(priorActiveMs(log)), tasks, runs, messages, log };
}
