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
import type { PostgresConnection, Queryable, SqlValue } from './postgres-connection.ts';

/** Messages to a member ($3): addressed to it, or to all and not sent by it. */
const inboxWhere = `team_id = $1 AND type = 'message' AND seq > $2
  AND ((data::json->>'to') = $3 OR ((data::json->>'to') = 'all' AND (data::json->>'from') != $3))`;

/**
 * The team tables in Postgres. Every change to a team's board or log is one transaction that
 * first locks the team's row, so changes to one team queue (in any process) while teams do
 * not wait for each other; a claim is one conditional UPDATE inside it.
 */
export class PostgresTeamStore implements TeamStore {
  readonly #c: PostgresConnection;
  readonly #redact: Redactor;

  constructor(connection: PostgresConnection, redact: Redactor) {
    this.#c = connection;
    this.#redact = redact;
  }

  /**
   * Runs `fn` in a transaction holding the team's row lock. With `opKey`, an operation already
   * made under that key is not made again: what it returned then is returned.
   */
  #transaction<T>(
    teamId: string,
    opKey: string | undefined,
    fn: (tx: Queryable) => Promise<T>,
  ): Promise<T> {
    return this.#c.transaction(async (tx) => {
      await tx.query('SELECT 1 FROM teams WHERE id = $1 FOR UPDATE', [teamId]);
      if (opKey !== undefined) {
        const [done] = await tx.query<{ result: string }>(
          'SELECT result FROM team_ops WHERE team_id = $1 AND key = $2',
          [teamId, opKey],
        );
        if (done) return (JSON.parse(done.result) ?? undefined) as T;
      }
      const value = await fn(tx);
      if (opKey !== undefined) {
        await tx.query('INSERT INTO team_ops (team_id, key, result) VALUES ($1, $2, $3)', [
          teamId,
          opKey,
          JSON.stringify(value ?? null),
        ]);
      }
      return value;
    });
  }

  async #append(
    tx: Queryable,
    teamId: string,
    events: readonly NewTeamEvent[],
    at: string,
  ): Promise<TeamEvent[]> {
    if (events.length === 0) return [];
    const [row] = await tx.query<{ seq: number }>(
      'SELECT coalesce(max(seq), 0) AS seq FROM team_events WHERE team_id = $1',
      [teamId],
    );
    const first = row!.seq + 1;
    const data = events.map((event) => this.#redact(JSON.stringify(event.data)));
    // The team's board, in every process, hears of the change at commit.
    await tx.query(
      `WITH added AS (
         INSERT INTO team_events (team_id, seq, at, type, data)
         SELECT $1, s, $2, t, d FROM unnest($3::int[], $4::text[], $5::text[]) AS x(s, t, d))
       SELECT pg_notify($6, $1)`,
      [
        teamId,
        at,
        events.map((_, i) => first + i),
        events.map((e) => e.type),
        data,
        this.#c.channel('board'),
      ],
    );
    return events.map((event, i) => ({
      teamId,
      seq: first + i,
      at,
      type: event.type,
      data: JSON.parse(data[i]!),
    }));
  }

  async createTeam(team: TeamRecord, started: NewTeamEvent): Promise<void> {
    await this.#c.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO teams (id, name, task, spec_path, cwd, lead_run_id, status, result, detail,
         budget, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
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
        ],
      );
      await this.#append(tx, team.id, [started], team.createdAt);
    });
  }

  async getTeam(idOrPrefix: string): Promise<TeamRecord | undefined> {
    const [exact] = await this.#c.query<TeamRow>('SELECT * FROM teams WHERE id = $1', [idOrPrefix]);
    if (exact) return toTeam(exact);
    const matches = await this.#c.query<TeamRow>(
      "SELECT * FROM teams WHERE id LIKE $1 ESCAPE '\\' LIMIT 2",
      [`${escapeLike(idOrPrefix)}%`],
    );
    return matches.length === 1 ? toTeam(matches[0]!) : undefined;
  }

  async listTeams(limit = 50): Promise<TeamRecord[]> {
    const rows = await this.#c.query<TeamRow>(
      'SELECT * FROM teams ORDER BY created_at DESC, id DESC LIMIT $1',
      [limit],
    );
    return rows.map(toTeam);
  }

  async setTeamStatus(
    teamId: string,
    change: { status: TeamStatus; result?: string; detail?: string; budget?: TeamBudget },
    event: NewTeamEvent | undefined,
    at: string,
  ): Promise<void> {
    await this.#transaction(teamId, undefined, async (tx) => {
      await tx.query(
        `UPDATE teams SET status = $1, result = $2, detail = $3, budget = coalesce($4, budget),
         updated_at = $5 WHERE id = $6`,
        [
          change.status,
          change.result === undefined ? null : this.#redact(change.result),
          change.detail === undefined ? null : this.#redact(change.detail),
          change.budget ? JSON.stringify(change.budget) : null,
          at,
          teamId,
        ],
      );
      if (event) await this.#append(tx, teamId, [event], at);
    });
  }

  async appendTeamEvents(
    teamId: string,
    events: readonly NewTeamEvent[],
    at: string,
    opKey?: string,
  ): Promise<TeamEvent[]> {
    return this.#transaction(teamId, opKey, (tx) => this.#append(tx, teamId, events, at));
  }

  async readTeamEvents(
    teamId: string,
    options: { afterSeq?: number; types?: readonly TeamEventType[] } = {},
  ): Promise<TeamEvent[]> {
    const types = options.types?.length ? options.types : null;
    const rows = await this.#c.query<TeamEventRow>(
      `SELECT * FROM team_events WHERE team_id = $1 AND seq > $2
       AND ($3::text[] IS NULL OR type = ANY($3::text[])) ORDER BY seq`,
      [teamId, options.afterSeq ?? 0, types],
    );
    return rows.map(toTeamEvent);
  }

  async lastTeamSeq(teamId: string): Promise<number> {
    const [row] = await this.#c.query<{ seq: number }>(
      'SELECT coalesce(max(seq), 0) AS seq FROM team_events WHERE team_id = $1',
      [teamId],
    );
    return row!.seq;
  }

  async createTasks(
    teamId: string,
    tasks: readonly NewTeamTask[],
    by: string,
    at: string,
    opKey?: string,
  ): Promise<{ ok: true; tasks: TeamTask[] } | { ok: false; error: string }> {
    return this.#transaction(teamId, opKey, async (tx) => {
      const rows = await tx.query<{ id: string; n: number }>(
        'SELECT id, n FROM team_tasks WHERE team_id = $1',
        [teamId],
      );
      const lastN = rows.reduce((max, row) => Math.max(max, row.n), 0);
      const checked = checkNewTasks(tasks, new Set(rows.map((r) => r.id)), lastN);
      if (!checked.ok) return checked;
      const created: TeamTask[] = [];
      let n = lastN;
      for (const task of checked.tasks) {
        const [row] = await tx.query<TaskRow>(
          `INSERT INTO team_tasks (team_id, id, n, title, description, depends_on, assignee, status,
           owner, run_id, result, created_by, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', NULL, NULL, NULL, $8, $9, $9) RETURNING *`,
          [
            teamId,
            task.id,
            ++n,
            this.#redact(task.title),
            this.#redact(task.description),
            JSON.stringify(task.dependsOn),
            task.assignee ?? null,
            by,
            at,
          ],
        );
        created.push(toTask(row!));
      }
      await this.#append(tx, teamId, createdEvents(created, by), at);
      return { ok: true as const, tasks: created };
    });
  }

  async listTasks(teamId: string): Promise<TeamTask[]> {
    const rows = await this.#c.query<TaskRow>(
      'SELECT * FROM team_tasks WHERE team_id = $1 ORDER BY n',
      [teamId],
    );
    return rows.map(toTask);
  }

  async getTask(teamId: string, taskId: string): Promise<TeamTask | undefined> {
    const [row] = await this.#c.query<TaskRow>(
      'SELECT * FROM team_tasks WHERE team_id = $1 AND id = $2',
      [teamId, taskId],
    );
    return row ? toTask(row) : undefined;
  }

  async claimTask(
    teamId: string,
    request: ClaimRequest,
    at: string,
    opKey?: string,
  ): Promise<TeamTask | undefined> {
    return this.#transaction(teamId, opKey, async (tx) => {
      // One statement: the pick and the update cannot be split by another claimer.
      const [row] = await tx.query<TaskRow>(
        `UPDATE team_tasks SET status = $1, owner = $2, run_id = $3, updated_at = $4
         WHERE team_id = $5 AND status = 'pending' AND id = (
           SELECT t.id FROM team_tasks t
           WHERE t.team_id = $5 AND t.status = 'pending'
             AND ((t.assignee IS NULL AND $6) OR t.assignee = ANY($7::text[]))
             AND ($8::text IS NULL OR t.id = $8)
             AND NOT EXISTS (
               SELECT 1 FROM jsonb_array_elements_text(t.depends_on::jsonb) d(value)
               LEFT JOIN team_tasks dep ON dep.team_id = t.team_id AND dep.id = d.value
               WHERE dep.status IS DISTINCT FROM 'done')
           ORDER BY t.assignee IS NULL, t.n LIMIT 1)
         RETURNING *`,
        [
          request.status,
          request.member,
          request.runId ?? null,
          at,
          teamId,
          request.unassigned !== false,
          [...request.names],
          request.taskId ?? null,
        ],
      );
      if (!row) return undefined;
      const task = toTask(row);
      if (request.runId && request.newRun) {
        await tx.query(
          'INSERT INTO team_runs (run_id, team_id, member, task_id, started_at) VALUES ($1, $2, $3, $4, $5)',
          [request.runId, teamId, request.member, task.id, at],
        );
      }
      await this.#append(tx, teamId, [claimedEvent(task, request)], at);
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
    return this.#transaction(teamId, opKey, async (tx) => {
      const params: SqlValue[] = [];
      const p = (value: SqlValue): string => {
        params.push(value);
        return `$${params.length}`;
      };
      const sets = [`status = ${p(change.set.status)}`, `updated_at = ${p(at)}`];
      for (const [column, value] of [
        ['owner', change.set.owner],
        ['run_id', change.set.runId],
        ['assignee', change.set.assignee],
        ['result', change.set.result],
      ] as const) {
        if (value === undefined) continue;
        sets.push(
          `${column} = ${p(value === null ? null : column === 'result' ? this.#redact(value) : value)}`,
        );
      }
      const where = [
        `team_id = ${p(teamId)}`,
        `id = ${p(taskId)}`,
        `status = ANY(${p([...change.from])}::text[])`,
      ];
      if (change.owner !== undefined) where.push(`owner = ${p(change.owner)}`);
      if (change.runId !== undefined) where.push(`run_id = ${p(change.runId)}`);
      const [row] = await tx.query<TaskRow>(
        `UPDATE team_tasks SET ${sets.join(', ')} WHERE ${where.join(' AND ')} RETURNING *`,
        params,
      );
      if (!row) return undefined;
      const task = toTask(row);
      await this.#append(tx, teamId, [changedEvent(task, change)], at);
      return task;
    });
  }

  async addTeamRun(record: TeamRunRecord): Promise<void> {
    await this.#c.query(
      `INSERT INTO team_runs (run_id, team_id, member, task_id, started_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [record.runId, record.teamId, record.member, record.taskId ?? null, record.startedAt],
    );
  }

  async listTeamRuns(teamId: string): Promise<TeamRunRecord[]> {
    const rows = await this.#c.query<TeamRunRow>(
      'SELECT * FROM team_runs WHERE team_id = $1 ORDER BY started_at, n',
      [teamId],
    );
    return rows.map(toTeamRun);
  }

  async teamOfRun(runId: string): Promise<string | undefined> {
    const [row] = await this.#c.query<{ team_id: string }>(
      'SELECT team_id FROM team_runs WHERE run_id = $1 UNION ALL SELECT id FROM teams WHERE lead_run_id = $1 LIMIT 1',
      [runId],
    );
    return row?.team_id;
  }

  async #mark(
    q: Queryable,
    teamId: string,
    member: string,
  ): Promise<{ read: number; seen: number }> {
    const [row] = await q.query<{ read_seq: number; seen_seq: number }>(
      'SELECT read_seq, seen_seq FROM team_marks WHERE team_id = $1 AND member = $2',
      [teamId, member],
    );
    return { read: row?.read_seq ?? 0, seen: row?.seen_seq ?? 0 };
  }

  async #setMark(
    q: Queryable,
    teamId: string,
    member: string,
    column: 'read_seq' | 'seen_seq',
    seq: number,
  ): Promise<void> {
    await q.query(
      `INSERT INTO team_marks (team_id, member, ${column}) VALUES ($1, $2, $3)
       ON CONFLICT (team_id, member) DO UPDATE SET ${column} = GREATEST(team_marks.${column}, excluded.${column})`,
      [teamId, member, seq],
    );
  }

  async #inbox(q: Queryable, teamId: string, member: string): Promise<TeamMessage[]> {
    const { read } = await this.#mark(q, teamId, member);
    const rows = await q.query<TeamEventRow>(
      `SELECT * FROM team_events WHERE ${inboxWhere} ORDER BY seq`,
      [teamId, read, member],
    );
    return rows.map(toMessage);
  }

  async readInbox(teamId: string, member: string, opKey?: string): Promise<TeamMessage[]> {
    return this.#transaction(teamId, opKey, async (tx) => {
      const messages = await this.#inbox(tx, teamId, member);
      const last = messages.at(-1);
      if (last) await this.#setMark(tx, teamId, member, 'read_seq', last.seq);
      return messages;
    });
  }

  async peekInbox(teamId: string, member: string): Promise<TeamMessage[]> {
    return this.#inbox(this.#c, teamId, member);
  }

  async seenMark(teamId: string, member: string): Promise<number> {
    return (await this.#mark(this.#c, teamId, member)).seen;
  }

  async setSeenMark(teamId: string, member: string, seq: number): Promise<void> {
    await this.#setMark(this.#c, teamId, member, 'seen_seq', seq);
  }

  async opResult(teamId: string, opKey: string): Promise<unknown> {
    const [row] = await this.#c.query<{ result: string }>(
      'SELECT result FROM team_ops WHERE team_id = $1 AND key = $2',
      [teamId, opKey],
    );
    return row ? JSON.parse(row.result) : undefined;
  }

  async recordOp(teamId: string, opKey: string, result: unknown): Promise<void> {
    await this.#c.query(
      'INSERT INTO team_ops (team_id, key, result) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [teamId, opKey, JSON.stringify(result ?? null)],
    );
  }
}
