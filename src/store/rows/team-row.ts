import type {
  ClaimRequest,
  NewTeamEvent,
  NewTeamTask,
  TaskChange,
  TaskStatus,
  TeamBudget,
  TeamEvent,
  TeamEventType,
  TeamMessage,
  TeamRecord,
  TeamRunRecord,
  TeamStatus,
  TeamTask,
} from '../team-store.ts';

/** Rows of the team tables, the same in every store. */
export interface TeamRow {
  id: string;
  name: string;
  task: string;
  spec_path: string;
  cwd: string;
  lead_run_id: string;
  status: string;
  result: string | null;
  detail: string | null;
  budget: string;
  created_at: string;
  updated_at: string;
}

export interface TaskRow {
  team_id: string;
  id: string;
  n: number;
  title: string;
  description: string;
  depends_on: string;
  assignee: string | null;
  status: string;
  owner: string | null;
  run_id: string | null;
  result: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface TeamEventRow {
  team_id: string;
  seq: number;
  at: string;
  type: string;
  data: string;
}

export interface TeamRunRow {
  run_id: string;
  team_id: string;
  member: string;
  task_id: string | null;
  started_at: string;
}

/**
 * A batch of new tasks checked against the board: ids given to those without one (`t<n>`, n
 * their place), and a one-line reason when an id is taken or a dependency unknown or circular.
 */
export function checkNewTasks(
  tasks: readonly NewTeamTask[],
  existing: ReadonlySet<string>,
  lastN: number,
): { ok: true; tasks: NewTeamTask[] } | { ok: false; error: string } {
  const named = tasks.map((task, i) => (task.id ? task : { ...task, id: `t${lastN + i + 1}` }));
  const batch = new Map<string, NewTeamTask>();
  for (const task of named) {
    if (existing.has(task.id) || batch.has(task.id)) {
      return { ok: false, error: `a task with id "${task.id}" already exists` };
    }
    batch.set(task.id, task);
  }
  for (const task of named) {
    for (const dep of task.dependsOn) {
      if (dep === task.id) return { ok: false, error: `task "${task.id}" depends on itself` };
      if (!existing.has(dep) && !batch.has(dep)) {
        return {
          ok: false,
          error: `task "${task.id}" depends on "${dep}", which is not on the board (create it in the same call, or first)`,
        };
      }
    }
  }
  const cycle = findCycle(batch);
  if (cycle) return { ok: false, error: `the dependencies go round in a circle: ${cycle}` };
  return { ok: true, tasks: named };
}

/** A circle among a batch's dependencies, as `a → b → a`; undefined when there is none. */
function findCycle(batch: ReadonlyMap<string, NewTeamTask>): string | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string | undefined => {
    const seen = state.get(id);
    if (seen === 'done') return undefined;
    if (seen === 'visiting') return [...path.slice(path.indexOf(id)), id].join(' → ');
    state.set(id, 'visiting');
    path.push(id);
    for (const dep of batch.get(id)?.dependsOn ?? []) {
      if (!batch.has(dep)) continue;
      const found = visit(dep);
      if (found) return found;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of batch.keys()) {
    const found = visit(id);
    if (found) return found;
  }
  return undefined;
}

/** The `task.created` entries of the team's log for tasks just created. */
export function createdEvents(tasks: readonly TeamTask[], by: string): NewTeamEvent[] {
  return tasks.map((task) => ({
    type: 'task.created' as const,
    data: {
      id: task.id,
      title: task.title,
      description: task.description,
      dependsOn: task.dependsOn,
      ...(task.assignee ? { assignee: task.assignee } : {}),
      by,
    },
  }));
}

/** The `task.changed` entry of a claim. */
export function claimedEvent(task: TeamTask, request: ClaimRequest): NewTeamEvent {
  return {
    type: 'task.changed',
    data: {
      id: task.id,
      status: task.status,
      owner: request.member,
      ...(request.runId ? { runId: request.runId } : {}),
      by: request.member,
    },
  };
}

/** The `task.changed` entry of a change. */
export function changedEvent(task: TeamTask, change: TaskChange): NewTeamEvent {
  return {
    type: 'task.changed',
    data: {
      id: task.id,
      status: task.status,
      ...(task.owner ? { owner: task.owner } : {}),
      ...(change.set.assignee !== undefined ? { assignee: change.set.assignee } : {}),
      ...(change.set.result ? { result: task.result } : {}),
      ...(change.note ? { note: change.note } : {}),
      by: change.by,
    },
  };
}

export function toTeam(row: TeamRow): TeamRecord {
  return {
    id: row.id,
    name: row.name,
    task: row.task,
    specPath: row.spec_path,
    cwd: row.cwd,
    leadRunId: row.lead_run_id,
    status: row.status as TeamStatus,
    ...(row.result !== null ? { result: row.result } : {}),
    ...(row.detail !== null ? { detail: row.detail } : {}),
    budget: JSON.parse(row.budget) as TeamBudget,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toTask(row: TaskRow): TeamTask {
  return {
    teamId: row.team_id,
    id: row.id,
    n: Number(row.n),
    title: row.title,
    description: row.description,
    dependsOn: JSON.parse(row.depends_on) as string[],
    ...(row.assignee !== null ? { assignee: row.assignee } : {}),
    status: row.status as TaskStatus,
    ...(row.owner !== null ? { owner: row.owner } : {}),
    ...(row.run_id !== null ? { runId: row.run_id } : {}),
    ...(row.result !== null ? { result: row.result } : {}),
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toTeamEvent(row: TeamEventRow): TeamEvent {
  return {
    teamId: row.team_id,
    seq: Number(row.seq),
    at: row.at,
    type: row.type as TeamEventType,
    data: JSON.parse(row.data),
  };
}

export function toTeamRun(row: TeamRunRow): TeamRunRecord {
  return {
    teamId: row.team_id,
    runId: row.run_id,
    member: row.member,
    ...(row.task_id ? { taskId: row.task_id } : {}),
    startedAt: row.started_at,
  };
}

export function toMessage(row: TeamEventRow): TeamMessage {
  const d = JSON.parse(row.data) as { from: string; to: string; text: string; auto?: boolean };
  return {
    seq: Number(row.seq),
    at: row.at,
    from: d.from,
    to: d.to,
    text: d.text,
    ...(d.auto ? { auto: true } : {}),
  };
}
