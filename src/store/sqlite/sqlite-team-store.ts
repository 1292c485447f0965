import type { Redactor } from '../../core/redact.ts';
import { escapeLike } from '../rows/run-row.ts';
import {
  changedEvent,
  checkNewTasks,
  claimedEvent,
  createdEvents,
  type TaskRow,
  type TeamEventRow,
  type TeamRow,
  type TeamRunRow,
  toMessage,
  toTask,
  toTeam,
  toTeamEvent,
  toTeamRun,
} from '../rows/team-row.ts';
import type {
  ClaimRequest,
  NewTeamEvent,
  NewTeamTask,
  TaskChange,
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
import type { SqliteConnection } from './sqlite-connection.ts';

/** Messages to a member: addressed to it, or to all and not sent by it. */
const inboxWhere = `team_id = ? AND type = 'message' AND seq > ?
  AND (json_extract(data, '$.to') = ? OR (json_extract(data, '$.to') = 'all' AND json_extract(data, '$.from') != ?))`;

/**
 * The team tables of the SQLite store, over the store's connection. Every change to the board
 * is one transaction with the entry it writes to the team's log; claims are one conditional
 * UPDATE inside it, so they are atomic between processes as well as within one.
 */
export class SqliteTeamStore implements TeamStore {
  readonly #c: SqliteConnection;
  readonly #redact: Redactor;

  constructor(connection: SqliteConnection, redact: Redactor) {
    this.#c = connection;
    this.#redact = redact;
  }

  /**
   * Runs `fn` in a write transaction. With `opKey`, an operation already made under that key
   * is not made again: what it returned then is returned (a tool call repeated after a crash).
   */
  #transaction<T>(teamId: string, opKey: string | undefined, fn: () => T): T {
    return this.#c.transaction(() => {
      if (opKey !== undefined) {
        const done = this.#c
          .prepare('SELECT result FROM team_ops WHERE team_id = ? AND key = ?')
          .get(teamId, opKey) as { result: string } | undefined;
        if (done) return (JSON.parse(done.result) ?? undefined) as T;
      }
      const value = fn();
      if (opKey !== undefined) {
        this.#c
          .prepare('INSERT INTO team_ops (team_id, key, result) VALUES (?, ?, ?)')
          .run(teamId, opKey, JSON.stringify(value ?? null));
      }
      return value;
    });
  }

  #append(teamId: string, events: readonly NewTeamEvent[], at: string): TeamEvent[] {
    const row = this.#c
      .prepare('SELECT coalesce(max(seq), 0) AS seq FROM team_events WHERE team_id = ?')
      .get(teamId) as { seq: number };
    let seq = row.seq;
    const insert = this.#c.prepare(
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
      this.#c
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
    const exact = this.#c.prepare('SELECT * FROM teams WHERE id = ?').get(idOrPrefix) as
      | TeamRow
      | undefined;
    if (exact) return toTeam(exact);
    const matches = this.#c
      .prepare(`SELECT * FROM teams WHERE id LIKE ? ESCAPE '\\' LIMIT 2`)
      .all(`${escapeLike(idOrPrefix)}%`) as unknown as TeamRow[];
    return matches.length === 1 ? toTeam(matches[0]!) : undefined;
  }

  async listTeams(limit = 50): Promise<TeamRecord[]> {
    const rows = this.#c
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
      this.#c
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
    const rows = this.#c
      .prepare(
        `SELECT * FROM team_events WHERE team_id = ? AND seq > ?
         ${types ? `AND type IN (${types.map(() => '?').join(', ')})` : ''} ORDER BY seq`,
      )
      .all(teamId, options.afterSeq ?? 0, ...(types ?? [])) as unknown as TeamEventRow[];
    return rows.map(toTeamEvent);
  }

  async lastTeamSeq(teamId: string): Promise<number> {
    const row = this.#c
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
      const last = this.#c
        .prepare('SELECT coalesce(max(n), 0) AS n FROM team_tasks WHERE team_id = ?')
        .get(teamId) as { n: number };
      const existing = new Set(
        (
          this.#c.prepare('SELECT id FROM team_tasks WHERE team_id = ?').all(teamId) as unknown as {
            id: string;
          }[]
        ).map((r) => r.id),
      );
      const checked = checkNewTasks(tasks, existing, last.n);
      if (!checked.ok) return checked;
      let n = last.n;
      const insert = `INSERT INTO team_tasks (team_id, id, n, title, description, depends_on, assignee, status,
         owner, run_id, result, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', NULL, NULL, NULL, ?, ?, ?) RETURNING *`;
      const created = checked.tasks.map((task) =>
        toTask(
          this.#c.returning<TaskRow>(
            insert,
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
          )!,
        ),
      );
      this.#append(teamId, createdEvents(created, by), at);
      return { ok: true as const, tasks: created };
    });
  }

  async listTasks(teamId: string): Promise<TeamTask[]> {
    const rows = this.#c
      .prepare('SELECT * FROM team_tasks WHERE team_id = ? ORDER BY n')
      .all(teamId) as unknown as TaskRow[];
    return rows.map(toTask);
  }

  async getTask(teamId: string, taskId: string): Promise<TeamTask | undefined> {
    const row = this.#c
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
      const row = this.#c.returning(
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
        this.#c
          .prepare(
            'INSERT INTO team_runs (run_id, team_id, member, task_id, started_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(request.runId, teamId, request.member, task.id, at);
      }
      this.#append(teamId, [claimedEvent(task, request)], at);
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
      const row = this.#c.returning(
        `UPDATE team_tasks SET ${sets.join(', ')} WHERE ${where.join(' AND ')} RETURNING *`,
        ...params,
      ) as TaskRow | undefined;
      if (!row) return undefined;
      const task = toTask(row);
      this.#append(teamId, [changedEvent(task, change)], at);
      return task;
    });
  }

  async addTeamRun(record: TeamRunRecord): Promise<void> {
    this.#c
      .prepare(
        'INSERT INTO team_runs (run_id, team_id, member, task_id, started_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(record.runId, record.teamId, record.member, record.taskId ?? null, record.startedAt);
  }

  async listTeamRuns(teamId: string): Promise<TeamRunRecord[]> {
    const rows = this.#c
      .prepare('SELECT * FROM team_runs WHERE team_id = ? ORDER BY started_at, rowid')
      .all(teamId) as unknown as TeamRunRow[];
    return rows.map(toTeamRun);
  }

  async teamOfRun(runId: string): Promise<string | undefined> {
    const row = this.#c
      .prepare(
        'SELECT team_id FROM team_runs WHERE run_id = ? UNION ALL SELECT id FROM teams WHERE lead_run_id = ? LIMIT 1',
      )
      .get(runId, runId) as { team_id: string } | undefined;
    return row?.team_id;
  }

  #mark(teamId: string, member: string): { read: number; seen: number } {
    const row = this.#c
      .prepare('SELECT read_seq, seen_seq FROM team_marks WHERE team_id = ? AND member = ?')
      .get(teamId, member) as { read_seq: number; seen_seq: number } | undefined;
    return { read: row?.read_seq ?? 0, seen: row?.seen_seq ?? 0 };
  }

  #setMark(teamId: string, member: string, column: 'read_seq' | 'seen_seq', seq: number): void {
    this.#c
      .prepare(
        `INSERT INTO team_marks (team_id, member, ${column}) VALUES (?, ?, ?)
         ON CONFLICT (team_id, member) DO UPDATE SET ${column} = max(${column}, excluded.${column})`,
      )
      .run(teamId, member, seq);
  }

  #inbox(teamId: string, member: string): TeamMessage[] {
    const rows = this.#c
      .prepare(`SELECT * FROM team_events WHERE ${inboxWhere} ORDER BY seq`)
      .all(teamId, this.#mark(teamId, member).read, member, member) as unknown as TeamEventRow[];
    return rows.map(toMessage);
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
    const row = this.#c
      .prepare('SELECT result FROM team_ops WHERE team_id = ? AND key = ?')
      .get(teamId, opKey) as { result: string } | undefined;
    return row ? JSON.parse(row.result) : undefined;
  }

  async recordOp(teamId: string, opKey: string, result: unknown): Promise<void> {
    this.#c
      .prepare(
        'INSERT INTO team_ops (team_id, key, result) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      )
      .run(teamId, opKey, JSON.stringify(result ?? null));
  }
}
