import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type {
  AnswerResult,
  ApprovalAnswer,
  ApprovalRecord,
  ApprovalRequest,
} from '../../core/approval.ts';
import {
  type AuditEntry,
  type AuditHead,
  type AuditRecord,
  auditHash,
  genesisHash,
} from '../../core/audit.ts';
import { AgentdError } from '../../core/errors.ts';
import type { RunEvent, RunStartedData } from '../../core/events.ts';
import type { Redactor } from '../../core/redact.ts';
import {
  type ApiKeyRecord,
  DuplicateEventError,
  type Durability,
  type EvalResultRecord,
  type EvalScoreRecord,
  type ListApprovalsOptions,
  type ListAuditOptions,
  type ListEvalScoresOptions,
  type ListRunsOptions,
  type PolicySetRecord,
  type RunLease,
  type RunPage,
  type RunQuery,
  type RunSummary,
  type ServerRecord,
  type Store,
  type ToolRecord,
} from '../store.ts';
import { migrations } from './migrations.ts';
import { SqliteApprovals } from './sqlite-approvals.ts';
import { SqliteEvalResults } from './sqlite-eval-results.ts';
import { SqliteMemoryStore } from './sqlite-memory-store.ts';
import { queryRuns, type RunRow, selectRuns, toSummary } from './sqlite-run-summary.ts';
import { SqliteTeamStore } from './sqlite-team-store.ts';

export interface SqliteStoreOptions {
  /** A file path, or `:memory:`. */
  path: string;
  durability?: Durability;
  redact?: Redactor;
}

interface EventRow {
  run_id: string;
  seq: number;
  at: string;
  type: string;
  data: string;
}

/** The embedded store: SQLite through `node:sqlite`, WAL journal. */
export class SqliteStore implements Store {
  readonly path: string;
  readonly durability: Durability;
  /** Long-term memory, over the same connection. */
  readonly memories: SqliteMemoryStore;
  /** Agent teams, over the same connection. */
  readonly teams: SqliteTeamStore;
  readonly #db: DatabaseSync;
  readonly #redact: Redactor;
  readonly #insertEvent: StatementSync;
  readonly #insertRun: StatementSync;
  readonly #approvals: SqliteApprovals;
  readonly #evalResults: SqliteEvalResults;
  readonly #pending: {
    events: readonly RunEvent[];
    resolve: () => void;
    reject: (e: unknown) => void;
  }[] = [];
  #flushScheduled = false;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    this.durability = options.durability ?? 'process';
    this.#redact = options.redact ?? ((text) => text);
    if (this.path !== ':memory:') mkdirSync(dirname(this.path), { recursive: true });
    try {
      this.#db = new DatabaseSync(this.path);
      // First, so that switching to WAL waits for a process creating the same file.
      this.#db.exec('PRAGMA busy_timeout = 5000');
      this.#db.exec('PRAGMA journal_mode = WAL');
      this.#db.exec(`PRAGMA synchronous = ${this.durability === 'machine' ? 'FULL' : 'NORMAL'}`);
      this.#db.exec('PRAGMA foreign_keys = ON');
      this.#migrate();
    } catch (error) {
      throw new AgentdError(
        'store_failed',
        `cannot open the run store at ${this.path}: ${(error as Error).message} (check the path and its permissions, or set AGENTD_HOME)`,
        { cause: error },
      );
    }
    this.#approvals = new SqliteApprovals(this.#db, this.#redact, (entry) =>
      this.#insertAudit(entry),
    );
    this.#insertEvent = this.#db.prepare(
      'INSERT INTO events (run_id, seq, at, type, data) VALUES (?, ?, ?, ?, ?)',
    );
    this.#insertRun = this.#db.prepare(
      'INSERT INTO runs (id, agent, model, task, parent_run_id, created_at, actor, session_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#evalResults = new SqliteEvalResults(this.#db, this.#redact);
    this.memories = new SqliteMemoryStore(this.#db, this.#redact);
    this.teams = new SqliteTeamStore(this.#db, this.#redact);
  }

  #migrate(): void {
    const row = this.#db.prepare('PRAGMA user_version').get() as { user_version: number };
    const current = row.user_version;
    if (current > migrations.length) {
      throw new Error(
        `the store has schema version ${current}, newer than this agentd knows (${migrations.length}); upgrade agentd`,
      );
    }
    for (let version = current; version < migrations.length; version++) {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        this.#db.exec(migrations[version]!);
        this.#db.exec(`PRAGMA user_version = ${version + 1}`);
        this.#db.exec('COMMIT');
      } catch (error) {
        this.#db.exec('ROLLBACK');
        throw error;
      }
    }
  }

  append(events: readonly RunEvent[]): Promise<void> {
    if (events.length === 0) return Promise.resolve();
    if (this.durability === 'process') {
      // Without fsync a commit is cheap: write now, in this call.
      try {
        this.#write([events]);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    // `machine`: appends made in the same tick by concurrent runs share one transaction and
    // so one fsync. Each batch still commits or fails on its own terms: a failing batch is
    // retried alone so one run's error never fails another's append.
    return new Promise((resolve, reject) => {
      this.#pending.push({ events, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending.splice(0);
    try {
      this.#write(batch.map((b) => b.events));
      for (const b of batch) b.resolve();
    } catch {
      for (const b of batch) {
        try {
          this.#write([b.events]);
          b.resolve();
        } catch (error) {
          b.reject(error);
        }
      }
    }
  }

  #write(groups: readonly (readonly RunEvent[])[]): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const events of groups) {
        for (const event of events) {
          if (event.type === 'run.started') this.#registerRun(event.runId, event.at, event.data);
          try {
            this.#insertEvent.run(
              event.runId,
              event.seq,
              event.at,
              event.type,
              this.#redact(JSON.stringify(event.data)),
            );
          } catch (error) {
            if ((error as { errcode?: number }).errcode === 1555) {
              throw new DuplicateEventError(event.runId, event.seq);
            }
            throw error;
          }
        }
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  #registerRun(runId: string, at: string, data: RunStartedData): void {
    this.#insertRun.run(
      runId,
      data.agent,
      data.model,
      this.#redact(data.task),
      data.parentRunId ?? null,
      at,
      data.actor ?? null,
      data.session?.id ?? null,
    );
  }

  async readEvents(
    runId: string,
    options: { afterSeq?: number; limit?: number } = {},
  ): Promise<RunEvent[]> {
    const rows = this.#db
      .prepare(
        'SELECT run_id, seq, at, type, data FROM events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      )
      .all(runId, options.afterSeq ?? -1, options.limit ?? -1) as unknown as EventRow[];
    return rows.map(
      (row) =>
        ({
          runId: row.run_id,
          seq: row.seq,
          at: row.at,
          type: row.type,
          data: JSON.parse(row.data),
        }) as RunEvent,
    );
  }

  async getRun(idOrPrefix: string): Promise<RunSummary | undefined> {
    const exact = this.#db.prepare(`${selectRuns} WHERE r.id = ?`).get(idOrPrefix) as
      | RunRow
      | undefined;
    if (exact) return toSummary(exact);
    const escaped = idOrPrefix.replace(/[\\%_]/g, (c) => `\\${c}`);
    const matches = this.#db
      .prepare(`${selectRuns} WHERE r.id LIKE ? ESCAPE '\\' LIMIT 2`)
      .all(`${escaped}%`) as unknown as RunRow[];
    return matches.length === 1 ? toSummary(matches[0]!) : undefined;
  }

  async listRuns(options: ListRunsOptions = {}): Promise<RunSummary[]> {
    const rows = this.#db
      .prepare(`${selectRuns} ORDER BY r.created_at DESC, r.id DESC`)
      .iterate() as Iterable<RunRow>;
    const limit = options.limit ?? 50;
    const out: RunSummary[] = [];
    for (const row of rows) {
      const summary = toSummary(row);
      if (options.status && summary.status !== options.status) continue;
      out.push(summary);
      if (out.length >= limit) break;
    }
    return out;
  }

  async queryRuns(query: RunQuery): Promise<RunPage> {
    return queryRuns(this.#db, query);
  }

  async getLease(runId: string): Promise<RunLease | undefined> {
    const row = this.#db
      .prepare('SELECT run_id, owner, heartbeat_at FROM run_leases WHERE run_id = ?')
      .get(runId) as LeaseRow | undefined;
    return row ? toLease(row) : undefined;
  }

  async claimLease(
    runId: string,
    owner: string,
    expectedOwner: string | null,
    at: string,
  ): Promise<boolean> {
    const result =
      expectedOwner === null
        ? this.#db
            .prepare(
              'INSERT INTO run_leases (run_id, owner, heartbeat_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
            )
            .run(runId, owner, at)
        : this.#db
            .prepare(
              'UPDATE run_leases SET owner = ?, heartbeat_at = ? WHERE run_id = ? AND owner = ?',
            )
            .run(owner, at, runId, expectedOwner);
    return result.changes === 1;
  }

  async renewLease(runId: string, owner: string, at: string): Promise<void> {
    this.#db
      .prepare('UPDATE run_leases SET heartbeat_at = ? WHERE run_id = ? AND owner = ?')
      .run(at, runId, owner);
  }

  async releaseLease(runId: string, owner: string): Promise<void> {
    this.#db.prepare('DELETE FROM run_leases WHERE run_id = ? AND owner = ?').run(runId, owner);
  }

  async listLeases(): Promise<RunLease[]> {
    const rows = this.#db
      .prepare('SELECT run_id, owner, heartbeat_at FROM run_leases')
      .all() as unknown as LeaseRow[];
    return rows.map(toLease);
  }

  async savePolicySet(
    name: string,
    files: readonly { name: string; text: string }[],
    digest: string,
    at: string,
  ): Promise<PolicySetRecord> {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const same = this.#db
        .prepare('SELECT version FROM policy_sets WHERE name = ? AND digest = ?')
        .get(name, digest) as { version: number } | undefined;
      let version = same?.version;
      if (version === undefined) {
        const last = this.#db
          .prepare('SELECT max(version) AS version FROM policy_sets WHERE name = ?')
          .get(name) as { version: number | null };
        version = (last.version ?? 0) + 1;
        this.#db
          .prepare(
            'INSERT INTO policy_sets (name, version, files, digest, created_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(name, version, JSON.stringify(files), digest, at);
      }
      this.#db.exec('COMMIT');
      return (await this.getPolicySet(name, version))!;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  async getPolicySet(name: string, version?: number): Promise<PolicySetRecord | undefined> {
    const row = (
      version === undefined
        ? this.#db
            .prepare(`${selectPolicySets} WHERE s.name = ? AND s.version = a.version`)
            .get(name)
        : this.#db
            .prepare(`${selectPolicySets} WHERE s.name = ? AND s.version = ?`)
            .get(name, version)
    ) as PolicySetRow | undefined;
    return row ? toPolicySet(row) : undefined;
  }

  async listPolicySets(): Promise<PolicySetRecord[]> {
    const rows = this.#db
      .prepare(`${selectPolicySets} ORDER BY s.name, s.version`)
      .all() as unknown as PolicySetRow[];
    return rows.map(toPolicySet);
  }

  async activatePolicySet(name: string, version: number, at: string): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO policy_set_active (name, version, activated_at) VALUES (?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET version = excluded.version, activated_at = excluded.activated_at`,
      )
      .run(name, version, at);
  }

  async putApiKey(record: ApiKeyRecord): Promise<void> {
    this.#db
      .prepare(
        'INSERT INTO api_keys (id, name, hash, scopes, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        record.id,
        record.name,
        record.hash,
        JSON.stringify(record.scopes),
        record.createdAt,
        record.revokedAt ?? null,
      );
  }

  async findApiKey(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM api_keys WHERE hash = ?').get(hash) as
      | ApiKeyRow
      | undefined;
    return row ? toApiKey(row) : undefined;
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    const rows = this.#db
      .prepare('SELECT * FROM api_keys ORDER BY created_at, id')
      .all() as unknown as ApiKeyRow[];
    return rows.map(toApiKey);
  }

  async revokeApiKey(id: string, at: string): Promise<boolean> {
    const result = this.#db
      .prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?')
      .run(at, id);
    return result.changes > 0;
  }

  async putServer(record: ServerRecord): Promise<void> {
    this.#db
      .prepare(
        `INSERT INTO mcp_servers (name, entry, secrets, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET entry = excluded.entry, secrets = excluded.secrets, updated_at = excluded.updated_at`,
      )
      .run(
        record.name,
        JSON.stringify(record.entry),
        record.sealedSecrets,
        record.createdAt,
        record.updatedAt,
      );
  }

  async getServer(name: string): Promise<ServerRecord | undefined> {
    const row = this.#db.prepare('SELECT * FROM mcp_servers WHERE name = ?').get(name) as
      | ServerRow
      | undefined;
    return row ? toServer(row) : undefined;
  }

  async listServers(): Promise<ServerRecord[]> {
    const rows = this.#db
      .prepare('SELECT * FROM mcp_servers ORDER BY name')
      .all() as unknown as ServerRow[];
    return rows.map(toServer);
  }

  async deleteServer(name: string): Promise<boolean> {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#db.prepare('DELETE FROM mcp_tools_search WHERE server = ?').run(name);
      this.#db.prepare('DELETE FROM mcp_tools WHERE server = ?').run(name);
      const result = this.#db.prepare('DELETE FROM mcp_servers WHERE name = ?').run(name);
      this.#db.exec('COMMIT');
      return result.changes === 1;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  async setServerTools(server: string, tools: readonly ToolRecord[]): Promise<void> {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#db.prepare('DELETE FROM mcp_tools_search WHERE server = ?').run(server);
      this.#db.prepare('DELETE FROM mcp_tools WHERE server = ?').run(server);
      const insert = this.#db.prepare(
        'INSERT INTO mcp_tools (server, name, description, input_schema, annotations, listed_at) VALUES (?, ?, ?, ?, ?, ?)',
      );
      const index = this.#db.prepare(
        'INSERT INTO mcp_tools_search (server, tool, words, description) VALUES (?, ?, ?, ?)',
      );
      for (const tool of tools) {
        insert.run(
          server,
          tool.name,
          tool.description,
          JSON.stringify(tool.inputSchema),
          tool.annotations === undefined ? null : JSON.stringify(tool.annotations),
          tool.listedAt,
        );
        // Words in names like read_text_file or listFiles are searchable one by one.
        index.run(server, tool.name, splitWords(tool.name), tool.description);
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  async listServerTools(server?: string): Promise<ToolRecord[]> {
    const rows = (server === undefined
      ? this.#db.prepare('SELECT * FROM mcp_tools ORDER BY server, name').all()
      : this.#db
          .prepare('SELECT * FROM mcp_tools WHERE server = ? ORDER BY name')
          .all(server)) as unknown as ToolRow[];
    return rows.map(toTool);
  }

  async searchTools(query: string, limit: number): Promise<(ToolRecord & { score: number })[]> {
    const words = splitWords(query)
      .split(' ')
      .filter((w) => w.length > 0);
    if (words.length === 0) return [];
    const match = words.map((w) => `"${w.replaceAll('"', '""')}"*`).join(' OR ');
    // bm25: a word in the name counts five times a word in the description
    const rows = this.#db
      .prepare(
        `SELECT t.*, bm25(mcp_tools_search, 0, 0, 5, 1) AS rank
         FROM mcp_tools_search s JOIN mcp_tools t ON t.server = s.server AND t.name = s.tool
         WHERE mcp_tools_search MATCH ? ORDER BY rank LIMIT ?`,
      )
      .all(match, limit) as unknown as (ToolRow & { rank: number })[];
    return rows.map((row) => ({ ...toTool(row), score: -row.rank }));
  }

  async appendAudit(entry: AuditEntry): Promise<AuditRecord> {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const record = this.#insertAudit(entry);
      this.#db.exec('COMMIT');
      return record;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  /** Appends an audit entry and moves the head, inside the caller's transaction. */
  #insertAudit(entry: AuditEntry): AuditRecord {
    const redacted: AuditEntry = {
      ...entry,
      reason: this.#redact(entry.reason),
      errors: entry.errors.map((e) => this.#redact(e)),
    };
    const head = this.#db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as
      | AuditHead
      | undefined;
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head?.hash ?? genesisHash;
    const hash = auditHash(seq, prevHash, redacted);
    this.#db
      .prepare(
        `INSERT INTO audit_log (seq, at, run_id, call_id, principal, user_name, action, resource,
         input_digest, decision, effect, mode, policies, errors, reason, latency_us, prev_hash, hash)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        seq,
        redacted.at,
        redacted.runId,
        redacted.callId,
        redacted.principal,
        redacted.user,
        redacted.action,
        redacted.resource,
        redacted.inputDigest,
        redacted.decision,
        redacted.effect,
        redacted.mode,
        JSON.stringify(redacted.policies),
        JSON.stringify(redacted.errors),
        redacted.reason,
        redacted.latencyUs,
        prevHash,
        hash,
      );
    this.#db
      .prepare(
        'INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash',
      )
      .run(seq, hash);
    return { ...redacted, seq, prevHash, hash };
  }

  async requestApproval(request: ApprovalRequest): Promise<ApprovalRecord> {
    return this.#approvals.request(request);
  }

  async getApproval(idOrPrefix: string): Promise<ApprovalRecord | undefined> {
    return this.#approvals.get(idOrPrefix);
  }

  async listApprovals(options?: ListApprovalsOptions): Promise<ApprovalRecord[]> {
    return this.#approvals.list(options);
  }

  async answerApproval(id: string, answer: ApprovalAnswer): Promise<AnswerResult | undefined> {
    return this.#approvals.answer(id, answer);
  }

  async listAudit(options: ListAuditOptions = {}): Promise<AuditRecord[]> {
    const where = ['seq > ?'];
    const params: (string | number)[] = [options.afterSeq ?? 0];
    if (options.runId !== undefined) {
      where.push('run_id = ?');
      params.push(options.runId);
    }
    const rows = this.#db
      .prepare(
        `SELECT * FROM audit_log WHERE ${where.join(' AND ')} ORDER BY seq ${options.newestFirst ? 'DESC' : 'ASC'} LIMIT ?`,
      )
      .all(...params, options.limit ?? -1) as unknown as AuditRow[];
    return rows.map(toAuditRecord);
  }

  async auditHead(): Promise<AuditHead | undefined> {
    const row = this.#db.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as
      | AuditHead
      | undefined;
    return row ? { seq: row.seq, hash: row.hash } : undefined;
  }

  async putEvalScores(scores: readonly EvalScoreRecord[]): Promise<void> {
    if (scores.length === 0) return;
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const insert = this.#db.prepare(
        `INSERT INTO eval_scores (run_id, source, evaluator, kind, level, score, pass, threshold,
         explanation, error, judge, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, source, evaluator) DO UPDATE SET kind = excluded.kind,
         level = excluded.level, score = excluded.score, pass = excluded.pass,
         threshold = excluded.threshold, explanation = excluded.explanation,
         error = excluded.error, judge = excluded.judge, scored_at = excluded.scored_at`,
      );
      for (const s of scores) {
        insert.run(
          s.runId,
          s.source,
          s.evaluator,
          s.kind,
          s.level,
          s.score,
          s.pass ? 1 : 0,
          s.threshold,
          this.#redact(s.explanation),
          s.error === undefined ? null : this.#redact(s.error),
          s.judge === undefined ? null : this.#redact(JSON.stringify(s.judge)),
          s.scoredAt,
        );
      }
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  async listEvalScores(options: ListEvalScoresOptions = {}): Promise<EvalScoreRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (options.runId !== undefined) {
      where.push('s.run_id = ?');
      params.push(options.runId);
    }
    if (options.source !== undefined) {
      where.push('s.source = ?');
      params.push(options.source);
    }
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const rows = this.#db
      .prepare(
        `WITH recent AS (
           SELECT s.run_id, max(s.scored_at) AS last FROM eval_scores s ${filter}
           GROUP BY s.run_id ORDER BY last DESC, s.run_id DESC LIMIT ?)
         SELECT s.*, r.agent, recent.last FROM eval_scores s
         JOIN recent ON recent.run_id = s.run_id JOIN runs r ON r.id = s.run_id
         ${filter} ORDER BY recent.last DESC, s.run_id DESC, s.rowid`,
      )
      .all(...params, options.runs ?? -1, ...params) as unknown as EvalScoreRow[];
    return rows.map(toEvalScore);
  }

  async putEvalResult(record: EvalResultRecord): Promise<void> {
    this.#evalResults.put(record);
  }

  async getEvalResult(idOrPrefix: string): Promise<EvalResultRecord | undefined> {
    return this.#evalResults.get(idOrPrefix);
  }

  async listEvalResults(
    options: { suite?: string; limit?: number } = {},
  ): Promise<Omit<EvalResultRecord, 'result'>[]> {
    return this.#evalResults.list(options);
  }

  async close(): Promise<void> {
    if (this.#pending.length > 0) this.#flush();
    if (this.#db.isOpen) this.#db.close();
  }
}

interface EvalScoreRow {
  run_id: string;
  source: string;
  evaluator: string;
  kind: string;
  level: string;
  score: number;
  pass: number;
  threshold: number;
  explanation: string;
  error: string | null;
  judge: string | null;
  scored_at: string;
  agent: string;
}

function toEvalScore(row: EvalScoreRow): EvalScoreRecord {
  return {
    runId: row.run_id,
    source: row.source,
    evaluator: row.evaluator,
    kind: row.kind,
    level: row.level,
    score: row.score,
    pass: row.pass === 1,
    threshold: row.threshold,
    explanation: row.explanation,
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.judge !== null ? { judge: JSON.parse(row.judge) } : {}),
    scoredAt: row.scored_at,
    agent: row.agent,
  };
}

const selectPolicySets = `SELECT s.name, s.version, s.files, s.digest, s.created_at,
  (a.version IS NOT NULL AND a.version = s.version) AS active
  FROM policy_sets s LEFT JOIN policy_set_active a ON a.name = s.name`;

interface PolicySetRow {
  name: string;
  version: number;
  files: string;
  digest: string;
  created_at: string;
  active: number;
}

function toPolicySet(row: PolicySetRow): PolicySetRecord {
  return {
    name: row.name,
    version: row.version,
    files: JSON.parse(row.files),
    digest: row.digest,
    createdAt: row.created_at,
    active: row.active === 1,
  };
}

interface ApiKeyRow {
  id: string;
  name: string;
  hash: string;
  scopes: string;
  created_at: string;
  revoked_at: string | null;
}

function toApiKey(row: ApiKeyRow): ApiKeyRecord {
  return {
    id: row.id,
    name: row.name,
    hash: row.hash,
    scopes: JSON.parse(row.scopes),
    createdAt: row.created_at,
    ...(row.revoked_at ? { revokedAt: row.revoked_at } : {}),
  };
}

interface AuditRow {
  seq: number;
  at: string;
  run_id: string | null;
  call_id: string | null;
  principal: string;
  user_name: string;
  action: string;
  resource: string;
  input_digest: string;
  decision: string;
  effect: string;
  mode: string;
  policies: string;
  errors: string;
  reason: string;
  latency_us: number;
  prev_hash: string;
  hash: string;
}

/** A row as it is stored (a row edited by hand keeps whatever it was given, for verify to catch). */
function toAuditRecord(row: AuditRow): AuditRecord {
  return {
    seq: row.seq,
    at: row.at,
    runId: row.run_id,
    callId: row.call_id,
    principal: row.principal,
    user: row.user_name,
    action: row.action,
    resource: row.resource,
    inputDigest: row.input_digest,
    decision: row.decision as AuditRecord['decision'],
    effect: row.effect as AuditRecord['effect'],
    mode: row.mode as AuditRecord['mode'],
    policies: parseList(row.policies),
    errors: parseList(row.errors),
    reason: row.reason,
    latencyUs: row.latency_us,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

function parseList(text: string): string[] {
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? value.map(String) : [text];
  } catch {
    return [text];
  }
}

interface ServerRow {
  name: string;
  entry: string;
  secrets: string | null;
  created_at: string;
  updated_at: string;
}

function toServer(row: ServerRow): ServerRecord {
  return {
    name: row.name,
    entry: JSON.parse(row.entry),
    sealedSecrets: row.secrets,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

interface ToolRow {
  server: string;
  name: string;
  description: string;
  input_schema: string;
  annotations: string | null;
  listed_at: string;
}

function toTool(row: ToolRow): ToolRecord {
  return {
    server: row.server,
    name: row.name,
    description: row.description,
    inputSchema: JSON.parse(row.input_schema),
    ...(row.annotations ? { annotations: JSON.parse(row.annotations) } : {}),
    listedAt: row.listed_at,
  };
}

/** `read_text_file` and `readTextFile` as `read text file`, for the search index. */
function splitWords(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim()
    .toLowerCase();
}

interface LeaseRow {
  run_id: string;
  owner: string;
  heartbeat_at: string;
}

function toLease(row: LeaseRow): RunLease {
  return { runId: row.run_id, owner: row.owner, heartbeatAt: row.heartbeat_at };
}
