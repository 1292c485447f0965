import { errorMessage } from '../core/errors.ts';
import type { RunState } from '../core/run-state.ts';
import type { TeamStatus, TeamTask } from '../store/team-store.ts';
import type { TeamBoard } from './board.ts';
import { clip } from './board-text.ts';
import type { TeamMemberSetup, TeamWorkspaces } from './team-run-options.ts';

/** How a team stopped: its status, and its result or why. */
export interface TeamStop {
  status: TeamStatus;
  result?: string;
  detail?: string;
}

/** What settling a run needs of its team. */
export interface SettleContext {
  teamId: string;
  board: TeamBoard;
  workspaces: TeamWorkspaces | undefined;
  /** How the team stopped, if it has: read at each step, since settling can stop it. */
  stopped: () => TeamStop | undefined;
  /** Stops the team (the first stop wins). */
  halt: (stop: TeamStop) => void;
}

/**
 * What a teammate's run ending means for the tasks it held: its final answer is the result
 * of a task it did not complete itself; a failure or a spent budget fails it (only it); a
 * suspended run keeps its task for resume, unless the team is over. The lead is told.
 */
export async function settleRun(
  team: SettleContext,
  member: TeamMemberSetup,
  runId: string,
  state: RunState | undefined,
  error?: unknown,
): Promise<void> {
  await team.workspaces?.afterRun(member.name);
  // No state and no error: the run never started (the team ended first).
  const status = state?.status ?? (error !== undefined ? 'failed' : 'suspended');
  const held = (await team.board.tasks()).filter(
    (t) => t.runId === runId && (t.status === 'claimed' || t.status === 'in_progress'),
  );
  const teamOver = team.stopped()?.status === 'completed';
  const settle = async (to: 'done' | 'failed', result: string): Promise<TeamTask[]> => {
    const out: TeamTask[] = [];
    for (const task of held) {
      const changed = await team.board.change(task.id, {
        from: ['claimed', 'in_progress'],
        runId,
        set: { status: to, result },
        by: member.name,
      });
      if (changed) out.push(changed);
    }
    return out;
  };
  let settled: TeamTask[] = [];
  let note: string;
  switch (status) {
    case 'completed':
      settled = await settle('done', state?.output?.trim() || '(the teammate gave no answer)');
      note = settled.length
        ? `${member.name} finished ${settled.map((t) => `${t.id} (${t.title})`).join(', ')}: ${clip(settled[0]!.result ?? '', 400)}`
        : `${member.name} finished its run and is idle`;
      break;
    case 'failed':
    case 'budget_exceeded':
    case 'cancelled': {
      const why =
        status === 'budget_exceeded'
          ? `its budget ran out: ${state?.detail ?? ''}`
          : `${status}${state?.detail ? `: ${state.detail}` : error ? `: ${errorMessage(error)}` : ''}`;
      settled = await settle('failed', why);
      note = `${member.name} failed ${settled.map((t) => t.id).join(', ') || 'its run'}: ${why}`;
      break;
    }
    default:
      // Stopped between steps, or waiting for a person: the task stays with the run.
      if (teamOver) {
        settled = await settle('failed', 'stopped: the team finished before this task did');
      }
      if (status === 'needs_attention' && !team.stopped()) {
        team.halt({
          status: 'needs_attention',
          detail: `${member.name}'s run ${runId} needs a person: ${state?.detail ?? ''}; then agentd team resume ${team.teamId} --rerun-in-doubt or --skip-in-doubt`,
        });
      }
      note = `${member.name} stopped (${status})`;
  }
  await team.board.append([
    {
      type: 'member.finished',
      data: {
        member: member.name,
        runId,
        status,
        ...(state?.reason ? { reason: state.reason } : {}),
        ...(state?.detail ? { detail: state.detail } : {}),
        ...(error !== undefined ? { error: errorMessage(error) } : {}),
        tasks: settled.map((t) => t.id),
      },
    },
  ]);
  if (!team.stopped() || status === 'completed' || settled.length) {
    await team.board.send(member.name, 'lead', note, { auto: true });
  }
}
