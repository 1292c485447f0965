import { z } from 'zod';
import type { JsonSchema } from '../models/model.ts';
import type { ToolManifest } from '../policy/manifests.ts';
import type { TaskChange, TaskStatus, TeamTask } from '../store/team-store.ts';
import { defineTool } from '../tools/define-tool.ts';
import type { Tool } from '../tools/tool.ts';
import { originOf, withOrigin } from '../tools/tool-origin.ts';
import type { TeamBoard } from './board.ts';
import { boardText, messagesText, taskBrief, taskLine } from './board-text.ts';
import type { TeamMember, TeamSession } from './session.ts';
import { waitTool } from './wait-tool.ts';

export { boardText, taskBrief, taskLine } from './board-text.ts';

/** The server name team tools have: the model sees `team__<tool>`, policies `team.<tool>`. */
export const teamServer = 'team';

const taskId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/, 'use 1-40 letters, digits, ".", "_" or "-"')
  .refine((id) => !/^t\d+$/.test(id), 'ids t1, t2, ... are given by agentd: leave id out');

const newTask = z.object({
  id: taskId
    .optional()
    .describe('a short id other tasks can depend on (default: t<number>, given by agentd)'),
  title: z.string().min(1).max(200),
  description: z.string().max(8000).optional().describe('what to do, and what to give back'),
  depends_on: z
    .array(z.string())
    .optional()
    .describe('ids of tasks that must be done before this one can start'),
  assignee: z
    .string()
    .optional()
    .describe('a teammate or a role to do it (default: whoever is free)'),
});

/** What the tools of one member are built with. */
interface MemberTools {
  session: TeamSession;
  member: TeamMember;
  board: TeamBoard;
  /** The member's name. */
  me: string;
  /** The names a task's assignee may give for this member: its name and its role. */
  names: string[];
  /** The members and roles a task can be given to. */
  known: () => string[];
  /** The tasks the run holds (claimed or in progress). */
  heldBy: (runId: string) => Promise<TeamTask[]>;
}

/**
 * The tools of one member: the board (`team__task_*`), messages (`team__send`, `team__inbox`)
 * and, for the lead, `team__wait`. They go through the policy gate like every tool (as the
 * actions `team.<tool>`), and every call that changes something records its idempotency key
 * with the change, so a call repeated after a crash does not act twice.
 */
export function teamTools(session: TeamSession, member: TeamMember): Tool[] {
  const board = session.board;
  const me = member.name;
  const names = [member.name, member.role];
  const known = () => session.assignable();

  const heldBy = async (runId: string) =>
    (await board.tasks()).filter(
      (t) => t.runId === runId && (t.status === 'claimed' || t.status === 'in_progress'),
    );

  const tools: MemberTools = { session, member, board, me, names, known, heldBy };
  const made = [
    taskCreateTool(tools),
    taskListTool(tools),
    taskClaimTool(tools),
    taskUpdateTool(tools),
    taskCompleteTool(tools),
    sendTool(tools),
    inboxTool(tools),
  ];
  if (member.lead) made.push(waitTool(session, member));
  return made.map((tool) =>
    withOrigin(tool, { kind: 'team', tool: tool.name.slice(teamServer.length + 2) }),
  );
}

/** `team__task_create`: tasks added to the board, with their dependencies. */
function taskCreateTool({ board, me, known }: MemberTools): Tool {
  return defineTool({
    name: 'team__task_create',
    description:
      'Add tasks to the team board. Give tasks ids when other tasks depend on them; dependencies may name tasks of the same call. Teammates start on unblocked tasks by themselves.',
    input: z.object({ tasks: z.array(newTask).min(1).max(50) }),
    checksIdempotencyKey: true,
    async execute({ tasks }, { idempotencyKey }) {
      const assignable = known();
      for (const t of tasks) {
        if (t.assignee && !assignable.includes(t.assignee)) {
          return `Error: no member or role "${t.assignee}" in the team (known: ${assignable.join(', ')})`;
        }
      }
      const created = await board.createTasks(
        me,
        tasks.map((t) => ({
          id: t.id ?? '',
          title: t.title,
          description: t.description ?? '',
          dependsOn: t.depends_on ?? [],
          ...(t.assignee ? { assignee: t.assignee } : {}),
        })),
        idempotencyKey,
      );
      if (!created.ok) return `Error: ${created.error}; no task was created`;
      return `Created ${created.tasks.length} task${created.tasks.length === 1 ? '' : 's'}:\n${created.tasks.map((t) => `- ${taskLine(t)}`).join('\n')}`;
    },
  });
}

/** `team__task_list`: the board, or its tasks of one status. */
function taskListTool({ board }: MemberTools): Tool {
  return defineTool({
    name: 'team__task_list',
    description: 'The team board: every task with its status, owner, dependencies and result.',
    input: z.object({
      status: z
        .enum(['pending', 'claimed', 'in_progress', 'blocked', 'done', 'failed'])
        .optional()
        .describe('only tasks with this status'),
    }),
    idempotent: true,
    async execute({ status }) {
      const tasks = await board.tasks();
      return boardText(status ? tasks.filter((t) => t.status === status) : tasks, 2000);
    },
  });
}

/** `team__task_claim`: a task taken, with the results of what it depends on. */
function taskClaimTool({ board, me, names }: MemberTools): Tool {
  return defineTool({
    name: 'team__task_claim',
    description:
      'Take a task to work on now: the one with this id, or else the next unblocked pending task for you. Returns the task and the results of the tasks it depends on.',
    input: z.object({ id: z.string().optional() }),
    checksIdempotencyKey: true,
    async execute({ id }, { runId, idempotencyKey }) {
      const task = await board.claim(
        {
          member: me,
          names,
          ...(id ? { taskId: id } : {}),
          status: 'in_progress',
          runId,
        },
        idempotencyKey,
      );
      if (!task) {
        if (!id) return 'No task is free for you now (pending, unblocked, for you or anyone).';
        const current = await board.task(id);
        if (!current) return `Error: no task "${id}" on the board`;
        return `Error: cannot claim ${id}: ${whyNot(current, await board.tasks(), names)}`;
      }
      return `You hold ${task.id} now. When it is done, call team__task_complete with its result.\n\n${taskBrief(task, await board.tasks())}`;
    },
  });
}

/** `team__task_update`: a task's status or assignee changed, as the member may. */
function taskUpdateTool({ board, me, member, known }: MemberTools): Tool {
  return defineTool({
    name: 'team__task_update',
    description: member.lead
      ? 'Change a task: block it, fail it, reopen it (status pending, which frees it) or give it to someone (assignee), with a note saying why.'
      : 'Change a task you hold: in_progress, blocked (say what you need), pending (give it back), or failed (say why).',
    input: z.object({
      id: z.string(),
      status: z.enum(['in_progress', 'blocked', 'pending', 'failed']).optional(),
      note: z.string().max(4000).optional(),
      assignee: z
        .string()
        .optional()
        .describe(member.lead ? 'a teammate or role to do it' : 'ignored: only the lead assigns'),
    }),
    checksIdempotencyKey: true,
    async execute({ id, status, note, assignee }, { idempotencyKey }) {
      const current = await board.task(id);
      if (!current) return `Error: no task "${id}" on the board`;
      if (!member.lead && current.owner !== me) {
        return `Error: ${id} is not yours (${current.owner ? `${current.owner} holds it` : 'nobody holds it'}); only its owner or the lead changes it`;
      }
      if (assignee !== undefined && !member.lead) return 'Error: only the lead assigns tasks';
      if (assignee && !known().includes(assignee)) {
        return `Error: no member or role "${assignee}" in the team (known: ${known().join(', ')})`;
      }
      const target = status ?? current.status;
      const change = transition(current, target, member);
      if (typeof change === 'string') return `Error: ${change}`;
      const changed = await board.change(
        id,
        {
          ...change,
          set: {
            ...change.set,
            ...(assignee !== undefined ? { assignee } : {}),
            ...((target === 'failed' || target === 'blocked') && note ? { result: note } : {}),
          },
          by: me,
          ...(note ? { note } : {}),
        },
        idempotencyKey,
      );
      if (!changed) return `Error: ${id} changed meanwhile; look again with team__task_list`;
      if (!member.lead && (target === 'blocked' || target === 'failed')) {
        await board.send(me, 'lead', `${me} marked ${id} ${target}${note ? `: ${note}` : ''}`, {
          auto: true,
          opKey: `${idempotencyKey}:notify`,
        });
      }
      return `Now: ${taskLine(changed)}`;
    },
  });
}

/** `team__task_complete`: a held task done, with its result. */
function taskCompleteTool({ board, me, heldBy }: MemberTools): Tool {
  return defineTool({
    name: 'team__task_complete',
    description:
      'Mark a task you hold done, with its result (what the lead and the tasks after it get). Without id: the task you hold.',
    input: z.object({ id: z.string().optional(), result: z.string().min(1).max(20000) }),
    checksIdempotencyKey: true,
    async execute({ id, result }, { runId, idempotencyKey }) {
      let target = id;
      if (!target) {
        const held = await heldBy(runId);
        if (held.length === 0) return 'Error: you hold no task; give its id';
        if (held.length > 1) {
          return `Error: you hold ${held.map((t) => t.id).join(', ')}: give the id of the one you finished`;
        }
        target = held[0]!.id;
      }
      const done = await board.change(
        target,
        {
          from: ['claimed', 'in_progress', 'blocked'],
          owner: me,
          set: { status: 'done', result },
          by: me,
        },
        idempotencyKey,
      );
      if (!done) {
        const current = await board.task(target);
        if (!current) return `Error: no task "${target}" on the board`;
        return `Error: cannot complete ${target}: it is ${current.status}${current.owner ? ` and held by ${current.owner}` : ''}`;
      }
      return `Done: ${taskLine(done, 80)}`;
    },
  });
}

/** `team__send`: a message to a member or to all. */
function sendTool({ session, board, me, member }: MemberTools): Tool {
  return defineTool({
    name: 'team__send',
    description: `Send a message to a member of the team (${session.members.map((m) => m.name).join(', ')}) or to all. They read it with team__inbox${member.lead ? '' : '; the lead also wakes from team__wait'}.`,
    input: z.object({
      to: z.string().describe('a member, or "all"'),
      text: z.string().min(1).max(8000),
    }),
    checksIdempotencyKey: true,
    async execute({ to, text }, { idempotencyKey }) {
      if (to !== 'all' && !session.member(to)) {
        return `Error: no member "${to}" (members: ${session.members.map((m) => m.name).join(', ')}, or all)`;
      }
      if (to === me) return 'Error: that is you';
      await board.send(me, to, text, { opKey: idempotencyKey });
      return `Sent to ${to}.`;
    },
  });
}

/** `team__inbox`: the member's unread messages. */
function inboxTool({ board, me }: MemberTools): Tool {
  return defineTool({
    name: 'team__inbox',
    description: 'Your unread messages (from the lead, teammates, or agentd about teammates).',
    input: z.object({}),
    checksIdempotencyKey: true,
    async execute(_, { idempotencyKey }) {
      const messages = await board.inbox(me, idempotencyKey);
      return messages.length ? messagesText(messages) : 'No new messages.';
    },
  });
}

/** Why a member cannot claim a task, in a few words. */
function whyNot(task: TeamTask, board: readonly TeamTask[], names: readonly string[]): string {
  if (task.status !== 'pending') {
    return `it is ${task.status}${task.owner ? ` (held by ${task.owner})` : ''}`;
  }
  if (task.assignee && !names.includes(task.assignee)) return `it is for ${task.assignee}`;
  const byId = new Map(board.map((t) => [t.id, t]));
  const waiting = task.dependsOn.filter((id) => byId.get(id)?.status !== 'done');
  if (waiting.length) return `it waits on ${waiting.join(', ')}`;
  return 'someone else took it first';
}

/** The change a status update makes, as the board allows it; a reason when it does not. */
function transition(
  task: TeamTask,
  target: TaskStatus,
  member: TeamMember,
): Omit<TaskChange, 'by'> | string {
  const mine = task.owner === member.name;
  switch (target) {
    case 'in_progress':
      if (!mine) return `only the member holding ${task.id} can set it in progress`;
      return {
        from: ['claimed', 'blocked', 'in_progress'],
        owner: member.name,
        set: { status: 'in_progress' },
      };
    case 'blocked':
      return {
        from: ['claimed', 'in_progress', 'blocked'],
        ...(member.lead ? {} : { owner: member.name }),
        set: { status: 'blocked' },
      };
    case 'pending':
      // Giving a task back, or (the lead) reopening it: it is free again.
      return {
        from: member.lead
          ? ['claimed', 'in_progress', 'blocked', 'failed', 'pending']
          : ['claimed', 'in_progress', 'blocked'],
        ...(member.lead ? {} : { owner: member.name }),
        set: { status: 'pending', owner: null, runId: null, result: null },
      };
    case 'failed':
      return {
        from: member.lead
          ? ['pending', 'claimed', 'in_progress', 'blocked']
          : ['claimed', 'in_progress', 'blocked'],
        ...(member.lead ? {} : { owner: member.name }),
        set: { status: 'failed' },
      };
    case 'claimed':
    case 'done':
      return `use team__task_claim or team__task_complete to set ${target}`;
  }
}

/** The policy manifests of the team tools, for schemas of policy sets that name them. */
export function teamToolManifests(): ToolManifest[] {
  const session = {
    teamId: '',
    name: '',
    board: undefined as never,
    members: [],
    runtime: undefined,
    member: () => undefined,
    assignable: () => [],
    principal: () => '',
  } as unknown as TeamSession;
  return teamTools(session, { name: 'lead', role: 'lead', lead: true }).map((tool) => {
    const origin = originOf(tool);
    return {
      action: `team.${tool.name.slice(teamServer.length + 2)}`,
      origin,
      inputSchema: tool.inputSchema as JsonSchema,
      description: tool.description,
    };
  });
}
