import { z } from 'zod';
import type { TeamMessage, TeamTask } from '../store/team-store.ts';
import { defineTool } from '../tools/define-tool.ts';
import type { Tool, ToolContext } from '../tools/tool.ts';
import { failedDependency, unblocked } from './board.ts';
import { boardText, clip, messagesText, taskLine } from './board-text.ts';
import type { TeamMember, TeamSession } from './session.ts';

/** The lead waits on the board: woken by a change in this process, re-reading the store. */
export function waitTool(session: TeamSession, member: TeamMember): Tool {
  const board = session.board;
  return defineTool({
    name: 'team__wait',
    description:
      'Wait until something on the board needs you: with until "change" (default), a task changing state or a message; with "all_done", every task finished or nothing able to go on without you. Returns what changed and your new messages. Waiting costs nothing; do not poll.',
    input: z.object({
      until: z.enum(['change', 'all_done']).optional(),
      timeout_s: z.number().positive().max(3600).optional(),
    }),
    checksIdempotencyKey: true,
    async execute({ until = 'change', timeout_s = 600 }, context: ToolContext) {
      const { idempotencyKey } = context;
      const repeated = await board.store.teams.opResult(session.teamId, idempotencyKey);
      if (typeof repeated === 'string') return repeated;
      const deadline = Date.now() + timeout_s * 1000;
      const stop = session.runtime?.stopSignal;
      const signals = [context.signal, ...(stop ? [stop] : [])];
      const abort = AbortSignal.any(signals);
      for (;;) {
        const seen = await board.store.teams.seenMark(session.teamId, member.name);
        const settled = session.runtime ? await session.runtime.settled() : true;
        const tasks = await board.tasks();
        const unread = await board.store.teams.peekInbox(session.teamId, member.name);
        const changes = (
          await board.store.teams.readTeamEvents(session.teamId, {
            afterSeq: seen,
            types: ['task.changed'],
          })
        ).filter((e) => e.data.by !== member.name);
        const finished = tasks.every((t) => t.status === 'done' || t.status === 'failed');
        const direct = unread.filter((m) => !m.auto);
        const ready =
          finished ||
          settled ||
          (until === 'change' ? changes.length > 0 || unread.length > 0 : direct.length > 0);
        const timedOut = Date.now() >= deadline;
        if (ready || timedOut || abort.aborted) {
          const messages = await board.inbox(member.name);
          const last = await board.store.teams.lastTeamSeq(session.teamId);
          const text = waitReply({
            tasks,
            changes: changes.map((e) => String(e.data.id)),
            messages,
            finished,
            settled,
            timedOut: !ready && timedOut,
            stopping: !ready && !timedOut,
          });
          await board.store.teams.setSeenMark(session.teamId, member.name, last);
          await board.store.teams.recordOp(session.teamId, idempotencyKey, text);
          return text;
        }
        await board.nextChange(abort, Math.min(2000, Math.max(0, deadline - Date.now())));
      }
    },
  });
}

function waitReply(options: {
  tasks: readonly TeamTask[];
  changes: readonly string[];
  messages: readonly TeamMessage[];
  finished: boolean;
  settled: boolean;
  timedOut: boolean;
  stopping: boolean;
}): string {
  const { tasks } = options;
  const parts: string[] = [];
  if (options.stopping) {
    parts.push(
      'The team was stopped (its budget, or a person). If you read this after the team was resumed, call team__wait again to go on waiting.',
    );
  } else if (options.timedOut)
    parts.push('Still waiting (timed out); call team__wait again to keep waiting.');
  if (tasks.length && options.finished) {
    const failed = tasks.filter((t) => t.status === 'failed').length;
    parts.push(
      `Every task is finished (${tasks.length - failed} done${failed ? `, ${failed} failed` : ''}). Decide what else is needed, or answer with the final result: your answer is the team's result.`,
    );
  } else if (options.settled && !options.timedOut && !options.stopping) {
    parts.push(`Nothing more happens without you: ${stuckText(tasks)}`);
  }
  const changed = [...new Set(options.changes)];
  if (changed.length) {
    const byId = new Map(tasks.map((t) => [t.id, t]));
    parts.push(
      `Changed since you last looked:\n${changed
        .map((id) => byId.get(id))
        .filter((t): t is TeamTask => !!t)
        .map((t) => `- ${taskLine(t, 600)}`)
        .join('\n')}`,
    );
  }
  if (options.messages.length) parts.push(`Messages:\n${messagesText(options.messages)}`);
  parts.push(boardText(tasks, 200));
  return parts.join('\n\n');
}

/** Why nothing on the board can go on by itself. */
function stuckText(tasks: readonly TeamTask[]): string {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const notes: string[] = [];
  for (const t of tasks) {
    if (t.status === 'blocked')
      notes.push(`${t.id} is blocked${t.result ? ` (${clip(t.result, 120)})` : ''}`);
    else if (t.status === 'pending') {
      const failed = failedDependency(t, byId);
      if (failed) notes.push(`${t.id} waits on ${failed}, which failed`);
      else if (unblocked(t, byId) && t.assignee)
        notes.push(`${t.id} is for ${t.assignee}, who cannot take it now`);
      else if (unblocked(t, byId)) notes.push(`${t.id} is free: claim it or assign it`);
    } else if (t.status === 'claimed' || t.status === 'in_progress') {
      notes.push(`${t.id} is held by ${t.owner ?? 'nobody'}`);
    }
  }
  if (tasks.length === 0) return 'the board is empty; create tasks with team__task_create.';
  return notes.length ? `${notes.join('; ')}.` : 'no teammate is working.';
}
