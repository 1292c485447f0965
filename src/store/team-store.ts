/**
 * Agent teams in the store: a team, its task board, the runs of its members and its own
 * append-only log (task changes, messages, members starting and finishing). See docs/teams.md.
 */

export const taskStatuses = [
  'pending',
  'claimed',
  'in_progress',
  'blocked',
  'done',
  'failed',
] as const;

export type TaskStatus = (typeof taskStatuses)[number];

/** Statuses a task leaves only when a person or the lead reopens it. */
export const finishedTaskStatuses: readonly TaskStatus[] = ['done', 'failed'];

export const teamStatuses = [
  'running',
  'completed',
  'failed',
  'budget_exceeded',
  'cancelled',
  'needs_attention',
] as const;

export type TeamStatus = (typeof teamStatuses)[number];

/** What bounds the whole team: the sum over every member's runs. Unset budgets are unbounded. */
export interface TeamBudget {
  maxTurns?: number;
  maxTokens?: number;
  maxCostUsd?: number;
  /** Active wall time of the team (time between a crash and its resume does not count). */
  maxTimeMs?: number;
}

export interface TeamRecord {
  id: string;
  /** The team's name in its team.yaml. */
  name: string;
  /** The job the team was given. */
  task: string;
  /** Absolute path of the team.yaml (resume reads it again). */
  specPath: string;
  /** The folder the team works in. */
  cwd: string;
  leadRunId: string;
  status: TeamStatus;
  /** The lead's final answer, when the team completed. */
  result?: string;
  /** One line: why the team stopped, when it did not complete. */
  detail?: string;
  budget: TeamBudget;
  createdAt: string;
  updatedAt: string;
}

export interface TeamTask {
  teamId: string;
  /** Short and unique in the team: given by whoever creates it, or `t<n>`. */
  id: string;
  /** Creation order, 1-based. */
  n: number;
  title: string;
  description: string;
  /** Tasks that must be done before this one can be claimed. */
  dependsOn: string[];
  /** Who should do it: a member or a role (anyone when unset). */
  assignee?: string;
  status: TaskStatus;
  /** The member that claimed it. */
  owner?: string;
  /** The run that works on it. */
  runId?: string;
  /** What came of it (done), or why it failed or is blocked. */
  result?: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface NewTeamTask {
  /** Empty: `t<n>`, n being its place on the board. */
  id: string;
  title: string;
  description: string;
  dependsOn: string[];
  assignee?: string;
}

/** A run of a member, linked to the team. */
export interface TeamRunRecord {
  teamId: string;
  runId: string;
  member: string;
  /** The task the run was started for (none for the lead). */
  taskId?: string;
  startedAt: string;
}

export type TeamEventType =
  | 'team.started'
  | 'team.resumed'
  | 'team.finished'
  | 'task.created'
  | 'task.changed'
  | 'message'
  | 'member.started'
  | 'member.finished';

/** One entry of a team's log. `seq` is dense per team. */
export interface TeamEvent {
  teamId: string;
  seq: number;
  at: string;
  type: TeamEventType;
  data: { [key: string]: unknown };
}

export interface NewTeamEvent {
  type: TeamEventType;
  data: { [key: string]: unknown };
}

/** A message between members, as the team's log keeps it. */
export interface TeamMessage {
  seq: number;
  at: string;
  from: string;
  /** A member's name, or `all`. */
  to: string;
  text: string;
  /** Sent by agentd on a member's behalf (a teammate finished, failed, went idle). */
  auto?: boolean;
}

/**
 * How a change to a task is allowed: only from one of `from` statuses, and (when set) only
 * while `owner` holds it. The update is one conditional statement, so two members racing for
 * the same change never both get it.
 */
export interface TaskChange {
  from: readonly TaskStatus[];
  owner?: string;
  /** Only while this run holds it. */
  runId?: string;
  set: {
    status: TaskStatus;
    owner?: string | null;
    runId?: string | null;
    assignee?: string | null;
    result?: string | null;
  };
  /** Who made the change (recorded in the team's log). */
  by: string;
  note?: string;
}

export interface ClaimRequest {
  member: string;
  /** Tasks assigned to any of these names may be claimed (the member's name and its role). */
  names: readonly string[];
  /** A particular task; otherwise the first claimable one, assigned ones first. */
  taskId?: string;
  /** The status the claim sets: `claimed`, or `in_progress` when the claimer starts at once. */
  status: 'claimed' | 'in_progress';
  /** The run that will work on it, recorded on the task. */
  runId?: string;
  /** The run is new: it is linked to the team in the same transaction as the claim. */
  newRun?: boolean;
  /** Tasks assigned to nobody may be claimed too (default true). */
  unassigned?: boolean;
}

export interface TeamStore {
  /** Registers a team and writes `team.started` in one transaction. */
  createTeam(team: TeamRecord, started: NewTeamEvent): Promise<void>;
  /** A team by id or a unique id prefix. */
  getTeam(idOrPrefix: string): Promise<TeamRecord | undefined>;
  /** Teams, newest first. */
  listTeams(limit?: number): Promise<TeamRecord[]>;
  /** Sets a team's status (and result or detail) and logs the event with it. */
  setTeamStatus(
    teamId: string,
    change: { status: TeamStatus; result?: string; detail?: string; budget?: TeamBudget },
    event: NewTeamEvent | undefined,
    at: string,
  ): Promise<void>;

  /** Appends to a team's log; with `opKey`, an append already made under it is not made again. */
  appendTeamEvents(
    teamId: string,
    events: readonly NewTeamEvent[],
    at: string,
    opKey?: string,
  ): Promise<TeamEvent[]>;
  /** A team's log in order, optionally after `afterSeq` and of some types only. */
  readTeamEvents(
    teamId: string,
    options?: { afterSeq?: number; types?: readonly TeamEventType[] },
  ): Promise<TeamEvent[]>;
  /** The last seq of a team's log (0 while it is empty). */
  lastTeamSeq(teamId: string): Promise<number>;

  /**
   * Adds tasks in one transaction (dependencies may name tasks of the same batch); refuses the
   * whole batch with a one-line reason when an id is taken or a dependency unknown or circular.
   */
  createTasks(
    teamId: string,
    tasks: readonly NewTeamTask[],
    by: string,
    at: string,
    opKey?: string,
  ): Promise<{ ok: true; tasks: TeamTask[] } | { ok: false; error: string }>;
  listTasks(teamId: string): Promise<TeamTask[]>;
  getTask(teamId: string, taskId: string): Promise<TeamTask | undefined>;
  /**
   * Claims a pending task whose dependencies are all done, atomically: one conditional UPDATE
   * in a transaction, so of any number of concurrent claimers (in this process or others)
   * exactly one gets a task. Undefined when there was nothing to claim.
   */
  claimTask(
    teamId: string,
    request: ClaimRequest,
    at: string,
    opKey?: string,
  ): Promise<TeamTask | undefined>;
  /** Changes a task if it is still as `change` expects; undefined when it was not. */
  changeTask(
    teamId: string,
    taskId: string,
    change: TaskChange,
    at: string,
    opKey?: string,
  ): Promise<TeamTask | undefined>;

  /** Links a run to the team. */
  addTeamRun(record: TeamRunRecord): Promise<void>;
  listTeamRuns(teamId: string): Promise<TeamRunRecord[]>;
  /** The team a run belongs to, if any. */
  teamOfRun(runId: string): Promise<string | undefined>;

  /** Messages to `member` (or to all, not from it) after its read mark; moves the mark past them. */
  readInbox(teamId: string, member: string, opKey?: string): Promise<TeamMessage[]>;
  /** Messages to `member` (or to all) after its read mark, without moving it. */
  peekInbox(teamId: string, member: string): Promise<TeamMessage[]>;
  /** A member's mark of the team log it has seen (for waiting on changes), and moving it. */
  seenMark(teamId: string, member: string): Promise<number>;
  setSeenMark(teamId: string, member: string, seq: number): Promise<void>;
  /** What an operation under this key returned, if it was made (a repeat after a crash). */
  opResult(teamId: string, opKey: string): Promise<unknown>;
  /** Records what an operation returned, once. */
  recordOp(teamId: string, opKey: string, result: unknown): Promise<void>;
}
