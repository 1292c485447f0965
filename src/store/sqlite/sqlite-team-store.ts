import type { DatabaseSync } from 'node:sqlite';
import type { Redactor } from '../../core/redact.ts';
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
  TeamStore,
  TeamTask,
} from '../team-store.ts';

interface TeamRow {
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

interface TaskRow {
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

interface EventRow {
  team_id: string;
  seq: number;
  at: string;
  type: string;
  data: string;
}

/** Messages to a member: addressed to it, or to all and not sent by it. */
const inboxWhere = `team_id = ? AND type = 'message' AND seq > ?
  AND (json_extract(data, '$.to') = ? OR (json_extract(data, '$.to') = 'all' AND json_extract(data, '$.from') != ?))`;

/**
 * The team tables of the SQLite store, over the store's connection. Every change to the board
 * is one transaction with the entry it writes to the team's log; claims are one conditional
 * UPDATE inside it, so they are atomic between processes as well as within one.
 */
export class SqliteTeamStore implements TeamStore {
  readonly #db: DatabaseSync;
  readonly #redact: Redactor;

  constructor(db: DatabaseSync, redact: Redactor) {
    this.#db = db;
    this.#redact = redact;
  }

  /**
   * Runs `fn` in a write transaction. With `opKey`, an operation already made under that key
   * is not made again: what it returned then is returned (a tool call repeated after a crash).
   */
  #transaction<T>(teamId: string, opKey: string | undefined, fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      if (opKey !== undefined) {
        const done = this.#db
          .prepare('SELECT result FROM team_ops WHERE team_id = ? AND key = ?')
          .get(teamId, opKey) as { result: string } | undefined;
        if (done) {
          this.#db.exec('COMMIT');
          return (JSON.parse(done.result) ?? undefined) as T;
        }
      }
      const value = fn();
      if (opKey !== undefined) {
        this.#db
          .prepare('INSERT INTO team_ops (team_id, key, result) VALUES (?, ?, ?)')
          .run(teamId, opKey, JSON.stringify(value ?? null));
      }
      this.#db.exec('COMMIT');
      return value;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  #append(teamId: string, events: readonly NewTeamEvent[], at: string): TeamEvent[] {
    const row = this.#db
      .prepare('SELECT coalesce(max(seq), 0) AS seq FROM team_events WHERE team_id = ?')
      .get(teamId) as { seq: number };
    let seq = row.seq;
    const insert = this.#db.prepare(
      'INSERT INTO team_events (team_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?)',
    );
    return events.map((event) => {
      seq++;
      const data = this.#redact(JSON.stringify(event.data));
      insert.run(teamId, seq, at, event.type, data);
      return { teamId, seq, at, type: event.type, data: JSON.parse(data) };
    });
  }

  async createTeam(team: TeamRecord, started: NewTeamEvent): Promise<void> {
    this.#transaction(team.id, undefined, () => {
      this.#db
        .prepare(
          `INSERT INTO teams (id, name, task, spec_path, cwd, lead_run_id, status, result, detail,
           budget, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          team.id,
          team.name,
          this.#redact(team.task),
          team.specPath,
          team.cwd,
          team.leadRunId,
          team.status,
          team.result === undefined ? null : this.#redact(team.result),
          team.detail === undefined ? null : this.#redact(team.detail),
          JSON.stringify(team.budget),
          team.createdAt,
          team.updatedAt,
        );
      this.#append(team.id, [started], team.createdAt);
    });
  }

  async getTeam(idOrPrefix: string): Promise<TeamRecord | undefined> {
    const exact = this.#db.prepare('SELECT * FROM teams WHERE id = ?').get(idOrPrefix) as
      | TeamRow
      | undefined;
    if (exact) return toTeam(exact);
    const escaped = idOrPrefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    const matches = this.#db
      .prepare(`SELECT * FROM teams WHERE id LIKE ? ESCAPE '\\' LIMIT 2`)
      .all(`${escaped}%`) as unknown as TeamRow[];
    return matches.length === 1 ? toTeam(matches[0]!) : undefined;
  }

  async listTeams(limit = 50): Promise<TeamRecord[]> {
    const rows = this.#db
      .prepare('SELECT * FROM teams ORDER BY created_at DESC, id DESC LIMIT ?')
      .all(limit) as unknown as TeamRow[];
    return rows.map(toTeam);
  }

  async setTeamStatus(
    teamId: string,
    change: { status: TeamStatus; result?: string; detail?: string; budget?: TeamBudget },
    event: NewTeamEvent | undefined,
    at: string,
  ): Promise<void> {
    this.#transaction(teamId, undefined, () => {
      this.#db
        .prepare(
          `UPDATE teams SET status = ?, result = ?, detail = ?, budget = coalesce(?, budget),
           updated_at = ? WHERE id = ?`,
        )
        .run(
          change.status,
          change.result === undefined ? null : this.#redact(change.result),
          change.detail === undefined ? null : this.#redact(change.detail),
          change.budget ? JSON.stringify(change.budget) : null,
          at,
          teamId,
        );
      if (event) this.#append(teamId, [event], at);
    });
  }

  async appendTeamEvents(
    teamId: string,
    events: readonly NewTeamEvent[],
    at: string,
    opKey?: string,
  ): Promise<TeamEvent[]> {
    return this.#transaction(teamId, opKey, () => this.#append(teamId, events, at));
  }

  async readTeamEvents(
    teamId: string,
    options: { afterSeq?: number; types?: readonly TeamEventType[] } = {},
  ): Promise<TeamEvent[]> {
    const types = options.types?.length ? options.types : undefined;
    const rows = this.#db
      .prepare(
        `SELECT * FROM team_events WHERE team_id = ? AND seq > ?
         ${types ? `AND type IN (${types.map(() => '?').join(', ')})` : ''} ORDER BY seq`,
      )
      .all(teamId, options.afterSeq ?? 0, ...(types ?? [])) as unknown as EventRow[];
    return rows.map(toEvent);
  }

  async lastTeamSeq(teamId: string): Promise<number> {
    const row = this.#db
      .prepare('SELECT coalesce(max(seq), 0) AS seq FROM team_events WHERE team_id = ?')
      .get(teamId) as { seq: number };
    return row.seq;
  }

  async createTasks(
    teamId: string,
    tasks: readonly NewTeamTask[],
    by: string,
    at: string,
    opKey?: string,
  ): Promise<{ ok: true; tasks: TeamTask[] } | { ok: false; error: string }> {
    return this.#transaction(teamId, opKey, () => {
      const last = this.#db
        .prepare('SELECT coalesce(max(n), 0) AS n FROM team_tasks WHERE team_id = ?')
        .get(teamId) as { n: number };
      // Tasks without an id are t<n>, n being their place on the board.
      tasks = tasks.map((task, i) => (task.id ? task : { ...task, id: `t${last.n + i + 1}` }));
      const existing = new Set(
        (
          this.#db
            .prepare('SELECT id FROM team_tasks WHERE team_id = ?')
            .all(teamId) as unknown as { id: string }[]
        ).map((r) => r.id),
      );
      const batch = new Map<string, NewTeamTask>();
      for (const task of tasks) {
        if (existing.has(task.id) || batch.has(task.id)) {
          return { ok: false as const, error: `a task with id "${task.id}" already exists` };
        }
        batch.set(task.id, task);
      }
      for (const task of tasks) {
        for (const dep of task.dependsOn) {
          if (dep === task.id) {
            return { ok: false as const, error: `task "${task.id}" depends on itself` };
          }
          if (!existing.has(dep) && !batch.has(dep)) {
            return {
              ok: false as const,
              error: `task "${task.id}" depends on "${dep}", which is not on the board (create it in the same call, or first)`,
            };
          }
        }
      }
      const cycle = findCycle(batch);
      if (cycle) {
        return { ok: false as const, error: `the dependencies go round in a circle: ${cycle}` };
      }
      let n = last.n;
      const insert = this.#db.prepare(
        `INSERT INTO team_tasks (team_id, id, n, title, description, depends_on, assignee, status,
         owner, run_id, result, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', NULL, NULL, NULL, ?, ?, ?) RETURNING *`,
      );
      const created = tasks.map((task) =>
        toTask(
          insert.get(
            teamId,
            task.id,
            ++n,
            this.#redact(task.title),
            this.#redact(task.description),
            JSON.stringify(task.dependsOn),
            task.assignee ?? null,
            by,
            at,
            at,
          ) as unknown as TaskRow,
        ),
      );
      this.#append(
        teamId,
        created.map((task) => ({
          type: 'task.created' as const,
          data: {
            id: task.id,
            title: task.title,
            description: task.description,
            dependsOn: task.dependsOn,
            ...(task.assignee ? { assignee: task.assignee } : {}),
            by,
          },
        })),
        at,
      );
      return { ok: true as const, tasks: created };
    });
  }

  async listTasks(teamId: string): Promise<TeamTask[]> {
    const rows = this.#db
      .prepare('SELECT * FROM team_tasks WHERE team_id = ? ORDER BY n')
      .all(teamId) as unknown as TaskRow[];
    return rows.map(toTask);
  }

  async getTask(teamId: string, taskId: string): Promise<TeamTask | undefined> {
    const row = this.#db
      .prepare('SELECT * FROM team_tasks WHERE team_id = ? AND id = ?')
      .get(teamId, taskId) as TaskRow | undefined;
    return row ? toTask(row) : undefined;
  }

  async claimTask(
    teamId: string,
    request: ClaimRequest,
    at: string,
    opKey?: string,
  ): Promise<TeamTask | undefined> {
    return this.#transaction(teamId, opKey, () => {
      // One statement: the pick and the update cannot be split by another claimer.
      const row = this.#db
        .prepare(
          `UPDATE team_tasks SET status = ?, owner = ?, run_id = ?, updated_at = ?
           WHERE team_id = ? AND status = 'pending' AND id = (
             SELECT t.id FROM team_tasks t
             WHERE t.team_id = ? AND t.status = 'pending'
               AND ((t.assignee IS NULL AND ?) OR t.assignee IN (SELECT value FROM json_each(?)))
               AND (? IS NULL OR t.id = ?)
               AND NOT EXISTS (
                 SELECT 1 FROM json_each(t.depends_on) d
                 LEFT JOIN team_tasks dep ON dep.team_id = t.team_id AND dep.id = d.value
                 WHERE dep.status IS NOT 'done')
             ORDER BY t.assignee IS NULL, t.n LIMIT 1)
           RETURNING *`,
        )
        .get(
          request.status,
          request.member,
          request.runId ?? null,
          at,
          teamId,
          teamId,
          request.unassigned === false ? 0 : 1,
          JSON.stringify(request.names),
          request.taskId ?? null,
          request.taskId ?? null,
        ) as TaskRow | undefined;
      if (!row) return undefined;
      const task = toTask(row);
      if (request.runId && request.newRun) {
        this.#db
          .prepare(
            'INSERT INTO team_runs (run_id, team_id, member, task_id, started_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(request.runId, teamId, request.member, task.id, at);
      }
      this.#append(
        teamId,
        [
          {
            type: 'task.changed',
            data: {
              id: task.id,
              status: task.status,
              owner: request.member,
              ...(request.runId ? { runId: request.runId } : {}),
              by: request.member,
            },
          },
        ],
        at,
      );
      return task;
    });
  }

  async changeTask(
    teamId: string,
    taskId: string,
    change: TaskChange,
    at: string,
    opKey?: string,
  ): Promise<TeamTask | undefined> {
    return this.#transaction(teamId, opKey, () => {
      const sets = ['status = ?', 'updated_at = ?'];
      const params: (string | null)[] = [change.set.status, at];
      for (const [column, value] of [
        ['owner', change.set.owner],
        ['run_id', change.set.runId],
        ['assignee', change.set.assignee],
        ['result', change.set.result],
      ] as const) {
        if (value === undefined) continue;
        sets.push(`${column} = ?`);
        params.push(value === null ? null : column === 'result' ? this.#redact(value) : value);
      }
      const where = [
        'team_id = ?',
        'id = ?',
        `status IN (${change.from.map(() => '?').join(', ')})`,
      ];
      params.push(teamId, taskId, ...change.from);
      if (change.owner !== undefined) {
        where.push('owner = ?');
        params.push(change.owner);
      }
      if (change.runId !== undefined) {
        where.push('run_id = ?');
        params.push(change.runId);
      }
      const row = this.#db
        .prepare(
          `UPDATE team_tasks SET ${sets.join(', ')} WHERE ${where.join(' AND ')} RETURNING *`,
        )
        .get(...params) as TaskRow | undefined;
      if (!row) return undefined;
      const task = toTask(row);
      this.#append(
        teamId,
        [
          {
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
          },
        ],
        at,
      );
      return task;
    });
  }

  async addTeamRun(record: TeamRunRecord): Promise<void> {
    this.#db
      .prepare(
        'INSERT INTO team_runs (run_id, team_id, member, task_id, started_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(record.runId, record.teamId, record.member, record.taskId ?? null, record.startedAt);
  }

  async listTeamRuns(teamId: string): Promise<TeamRunRecord[]> {
    const rows = this.#db
      .prepare('SELECT * FROM team_runs WHERE team_id = ? ORDER BY started_at, rowid')
      .all(teamId) as unknown as {
      run_id: string;
      team_id: string;
      member: string;
      task_id: string | null;
      started_at: string;
    }[];
    return rows.map((row) => ({
      teamId: row.team_id,
      runId: row.run_id,
      member: row.member,
      ...(row.task_id ? { taskId: row.task_id } : {}),
      startedAt: row.started_at,
    }));
  }

  async teamOfRun(runId: string): Promise<string | undefined> {
    const row = this.#db
      .prepare(
        'SELECT team_id FROM team_runs WHERE run_id = ? UNION ALL SELECT id FROM teams WHERE lead_run_id = ? LIMIT 1',
      )
      .get(runId, runId) as { team_id: string } | undefined;
    return row?.team_id;
  }

  #mark(teamId: string, member: string): { read: number; seen: number } {
    const row = this.#db
      .prepare('SELECT read_seq, seen_seq FROM team_marks WHERE team_id = ? AND member = ?')
      .get(teamId, member) as { read_seq: number; seen_seq: number } | undefined;
    return { read: row?.read_seq ?? 0, seen: row?.seen_seq ?? 0 };
  }

  #setMark(teamId: string, member: string, column: 'read_seq' | 'seen_seq', seq: number): void {
    this.#db
      .prepare(
        `INSERT INTO team_marks (team_id, member, ${column}) VALUES (?, ?, ?)
         ON CONFLICT (team_id, member) DO UPDATE SET ${column} = max(${column}, excluded.${column})`,
      )
      .run(teamId, member, seq);
  }

  #inbox(teamId: string, member: string): TeamMessage[] {
    const rows = this.#db
      .prepare(`SELECT * FROM team_events WHERE ${inboxWhere} ORDER BY seq`)
      .all(teamId, this.#mark(teamId, member).read, member, member) as unknown as EventRow[];
    return rows.map((row) => {
      const d = JSON.parse(row.data) as { from: string; to: string; text: string; auto?: boolean };
      return {
        seq: row.seq,
        at: row.at,
        from: d.from,
        to: d.to,
        text: d.text,
        ...(d.auto ? { auto: true } : {}),
      };
    });
  }

  async readInbox(teamId: string, member: string, opKey?: string): Promise<TeamMessage[]> {
    return this.#transaction(teamId, opKey, () => {
      const messages = this.#inbox(teamId, member);
      const last = messages.at(-1);
      if (last) this.#setMark(teamId, member, 'read_seq', last.seq);
      return messages;
    });
  }

  async peekInbox(teamId: string, member: string): Promise<TeamMessage[]> {
    return this.#inbox(teamId, member);
  }

  async seenMark(teamId: string, member: string): Promise<number> {
    return this.#mark(teamId, member).seen;
  }

  async setSeenMark(teamId: string, member: string, seq: number): Promise<void> {
    this.#setMark(teamId, member, 'seen_seq', seq);
  }

  async opResult(teamId: string, opKey: string): Promise<unknown> {
    const row = this.#db
      .prepare('SELECT result FROM team_ops WHERE team_id = ? AND key = ?')
      .get(teamId, opKey) as { result: string } | undefined;
    return row ? JSON.parse(row.result) : undefined;
  }

  async recordOp(teamId: string, opKey: string, result: unknown): Promise<void> {
    this.#db
      .prepare(
        'INSERT INTO team_ops (team_id, key, result) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(teamId, opKey, JSON.stringify(result ?? null));
  }
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

function toTeam(row: TeamRow): TeamRecord {
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

function toTask(row: TaskRow): TeamTask {
  return {
    teamId: row.team_id,
    id: row.id,
    n: row.n,
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

function toEvent(row: EventRow): TeamEvent {
  return {
    teamId: row.team_id,
    seq: row.seq,
    at: row.at,
    type: row.type as TeamEventType,
    data: JSON.parse(row.data),
  };
}
