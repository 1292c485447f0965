/**
 * A run's status as set by one of its events (`e`), in SQL: what `toSummary` reads from the
 * same event (`../rows/run-row.ts`).
 */
function statusOf(e: string): string {
  return `CASE ${e}.type
    WHEN 'run.finished' THEN json_extract(${e}.data, '$.status')
    WHEN 'run.needs_attention' THEN 'needs_attention'
    WHEN 'run.suspended' THEN 'suspended'
    WHEN 'approval.requested' THEN 'awaiting_approval'
    WHEN 'approval.answered' THEN
      CASE WHEN json_extract(${e}.data, '$.othersWaiting') > 0 THEN 'awaiting_approval' ELSE 'running' END
    ELSE 'running' END`;
}

function costOf(e: string): string {
  return `CASE WHEN ${e}.type = 'run.finished' THEN json_extract(${e}.data, '$.costUsd') END`;
}

/**
 * Versioned schema migrations, applied in order inside one transaction each; the schema
 * version is SQLite's `user_version`. Never edit a released migration: add the next one, and
 * the same version to `../postgres/migrations.ts` (version N is the same schema in both).
 */
export const migrations: readonly string[] = [
  // 1: runs and their event log
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    agent TEXT NOT NULL,
    model TEXT NOT NULL,
    task TEXT NOT NULL,
    parent_run_id TEXT REFERENCES runs(id),
    created_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX runs_parent ON runs(parent_run_id) WHERE parent_run_id IS NOT NULL;
  CREATE TABLE events (
    run_id TEXT NOT NULL REFERENCES runs(id),
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX events_type ON events(run_id, type);
  `,
  // 2: who is running a run now (coordination, not history: never an event)
  `
  CREATE TABLE run_leases (
    run_id TEXT PRIMARY KEY REFERENCES runs(id),
    owner TEXT NOT NULL,
    heartbeat_at TEXT NOT NULL
  ) STRICT;
  `,
  // 3: the registry of MCP servers, and their tools for search
  `
  CREATE TABLE mcp_servers (
    name TEXT PRIMARY KEY,
    entry TEXT NOT NULL,
    secrets TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT;
  CREATE TABLE mcp_tools (
    server TEXT NOT NULL REFERENCES mcp_servers(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    input_schema TEXT NOT NULL,
    annotations TEXT,
    listed_at TEXT NOT NULL,
    PRIMARY KEY (server, name)
  ) STRICT;
  CREATE VIRTUAL TABLE mcp_tools_search USING fts5(server UNINDEXED, tool UNINDEXED, words, description, tokenize = 'unicode61');
  `,
  // 4: API keys for agentd serve (only a hash of each key is kept)
  `
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  ) STRICT;
  `,
  // 5: the audit log of policy decisions: append-only (triggers refuse edits and deletes),
  // hash-chained (each entry's hash covers the one before it), and its head kept apart so a
  // cut-off tail shows
  `
  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    run_id TEXT,
    call_id TEXT,
    principal TEXT NOT NULL,
    user_name TEXT NOT NULL,
    action TEXT NOT NULL,
    resource TEXT NOT NULL,
    input_digest TEXT NOT NULL,
    decision TEXT NOT NULL,
    effect TEXT NOT NULL,
    mode TEXT NOT NULL,
    policies TEXT NOT NULL,
    errors TEXT NOT NULL,
    reason TEXT NOT NULL,
    latency_us INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_log_run ON audit_log(run_id) WHERE run_id IS NOT NULL;
  CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
  ) STRICT;
  CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
  `,
  // 6: evaluation scores kept with runs (online evaluation scores finished runs)
  `
  CREATE TABLE eval_scores (
    run_id TEXT NOT NULL REFERENCES runs(id),
    source TEXT NOT NULL,
    evaluator TEXT NOT NULL,
    kind TEXT NOT NULL,
    level TEXT NOT NULL,
    score REAL NOT NULL,
    pass INTEGER NOT NULL,
    threshold REAL NOT NULL,
    explanation TEXT NOT NULL,
    error TEXT,
    judge TEXT,
    scored_at TEXT NOT NULL,
    PRIMARY KEY (run_id, source, evaluator)
  ) STRICT;
  CREATE INDEX eval_scores_at ON eval_scores(scored_at);
  `,
  // 7: long-term memory: memories with their provenance, a full-text index (BM25), the vectors
  // of the embedding model (kept so the ANN index can be rebuilt) and the log of vector changes
  // the index replays, queued extractions; and the actor and session of each run
  `
  CREATE TABLE memories (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    namespace TEXT NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    key TEXT,
    trust TEXT NOT NULL,
    source TEXT NOT NULL,
    actor TEXT,
    agent TEXT,
    session_id TEXT,
    run_id TEXT,
    provenance TEXT NOT NULL,
    status TEXT NOT NULL,
    supersedes TEXT,
    superseded_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX memories_namespace ON memories(namespace, status);
  CREATE INDEX memories_actor ON memories(actor) WHERE actor IS NOT NULL;
  CREATE INDEX memories_key ON memories(namespace, kind, key) WHERE key IS NOT NULL;
  CREATE VIRTUAL TABLE memories_fts USING fts5(text, key, tokenize = 'porter unicode61');
  CREATE TABLE memory_vectors (
    memory INTEGER PRIMARY KEY REFERENCES memories(n) ON DELETE CASCADE,
    model TEXT NOT NULL,
    vector BLOB NOT NULL
  ) STRICT;
  CREATE TABLE memory_vector_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    memory INTEGER NOT NULL,
    model TEXT NOT NULL,
    op TEXT NOT NULL
  ) STRICT;
  CREATE INDEX memory_vector_log_model ON memory_vector_log(model, seq);
  CREATE TABLE memory_jobs (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL,
    from_seq INTEGER NOT NULL,
    to_seq INTEGER NOT NULL,
    reason TEXT NOT NULL,
    spec_path TEXT,
    status TEXT NOT NULL,
    owner TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX memory_jobs_status ON memory_jobs(status, id);
  ALTER TABLE runs ADD COLUMN actor TEXT;
  ALTER TABLE runs ADD COLUMN session_id TEXT;
  CREATE INDEX runs_session ON runs(actor, session_id, created_at) WHERE session_id IS NOT NULL;
  `,
  // 8: requests for a person's approval of a tool call, and their answers (the first answer
  // wins: a row is answered once, from pending); one request per call of a run
  `
  CREATE TABLE approvals (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    call_id TEXT NOT NULL,
    agent TEXT NOT NULL,
    tool TEXT NOT NULL,
    action TEXT NOT NULL,
    principal TEXT NOT NULL,
    user_name TEXT NOT NULL,
    resource TEXT NOT NULL,
    input TEXT NOT NULL,
    input_digest TEXT NOT NULL,
    mode TEXT NOT NULL,
    policies TEXT NOT NULL,
    reason TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    audit_seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    answered_by TEXT,
    answer_reason TEXT,
    answered_at TEXT,
    answer_audit_seq INTEGER,
    UNIQUE (run_id, call_id)
  ) STRICT;
  CREATE INDEX approvals_status ON approvals(status, requested_at);
  `,
  // 9: agent teams: a team, its task board (a claim is one conditional UPDATE), the runs of its
  // members, its own log (task changes, messages), members' read marks, and the results of
  // operations already made (a tool call repeated after a crash is not made twice)
  `
  CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    task TEXT NOT NULL,
    spec_path TEXT NOT NULL,
    cwd TEXT NOT NULL,
    lead_run_id TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    detail TEXT,
    budget TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  ) STRICT;
  CREATE TABLE team_tasks (
    team_id TEXT NOT NULL REFERENCES teams(id),
    id TEXT NOT NULL,
    n INTEGER NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    depends_on TEXT NOT NULL,
    assignee TEXT,
    status TEXT NOT NULL,
    owner TEXT,
    run_id TEXT,
    result TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (team_id, id)
  ) STRICT;
  CREATE INDEX team_tasks_status ON team_tasks(team_id, status, n);
  CREATE TABLE team_runs (
    run_id TEXT PRIMARY KEY,
    team_id TEXT NOT NULL REFERENCES teams(id),
    member TEXT NOT NULL,
    task_id TEXT,
    started_at TEXT NOT NULL
  ) STRICT;
  CREATE INDEX team_runs_team ON team_runs(team_id, started_at);
  CREATE TABLE team_events (
    team_id TEXT NOT NULL REFERENCES teams(id),
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (team_id, seq)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE team_marks (
    team_id TEXT NOT NULL REFERENCES teams(id),
    member TEXT NOT NULL,
    read_seq INTEGER NOT NULL DEFAULT 0,
    seen_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (team_id, member)
  ) STRICT;
  CREATE TABLE team_ops (
    team_id TEXT NOT NULL REFERENCES teams(id),
    key TEXT NOT NULL,
    result TEXT NOT NULL,
    PRIMARY KEY (team_id, key)
  ) STRICT, WITHOUT ROWID;
  `,
  // 10: policy sets kept in the store: every saved version, and which one is active
  `
  CREATE TABLE policy_sets (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    files TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (name, version)
  ) STRICT;
  CREATE TABLE policy_set_active (
    name TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    activated_at TEXT NOT NULL,
    FOREIGN KEY (name, version) REFERENCES policy_sets(name, version)
  ) STRICT;
  `,
  // 11: leases have a generation, moved on by every claim: an append fenced by a generation
  // that is no longer the lease's is refused (a process that lost its lease cannot write);
  // a released lease keeps its row with no owner, so generations only grow
  `
  ALTER TABLE run_leases ADD COLUMN generation INTEGER NOT NULL DEFAULT 1;
  `,
  // 12: evaluation suites' results (the console lists and compares them); indexes for listing
  // runs newest first a page at a time, and for finding the event that set a run's status (an
  // index kept by a trigger: the status is still read from that event)
  `
  CREATE TABLE eval_results (
    id TEXT PRIMARY KEY,
    suite TEXT NOT NULL,
    started_at TEXT NOT NULL,
    score REAL,
    cases INTEGER NOT NULL,
    passed INTEGER NOT NULL,
    failed INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    result TEXT NOT NULL
  ) STRICT;
  CREATE INDEX eval_results_suite ON eval_results(suite, started_at);
  CREATE INDEX runs_created ON runs(created_at, id);
  CREATE INDEX runs_agent ON runs(agent, created_at);
  CREATE TABLE run_status_events (
    run_id TEXT PRIMARY KEY REFERENCES runs(id),
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    cost_usd REAL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX run_status_events_status ON run_status_events(status);
  INSERT INTO run_status_events (run_id, seq, status, cost_usd)
    SELECT e.run_id, e.seq, ${statusOf('e')}, ${costOf('e')} FROM events e
    WHERE e.seq = (SELECT max(x.seq) FROM events x WHERE x.run_id = e.run_id AND x.type IN ('run.finished', 'run.needs_attention', 'run.suspended', 'run.resumed', 'approval.requested', 'approval.answered'));
  CREATE TRIGGER run_status_events_follow AFTER INSERT ON events
    WHEN NEW.type IN ('run.finished', 'run.needs_attention', 'run.suspended', 'run.resumed', 'approval.requested', 'approval.answered')
    BEGIN
      INSERT INTO run_status_events (run_id, seq, status, cost_usd)
        VALUES (NEW.run_id, NEW.seq, ${statusOf('NEW')}, ${costOf('NEW')})
        ON CONFLICT (run_id) DO UPDATE SET seq = excluded.seq, status = excluded.status,
          cost_usd = excluded.cost_usd WHERE excluded.seq > run_status_events.seq;
    END;
  `,
  // 13: run tags, an index kept by triggers from the events that set them (`run.started`'s
  // tags, `run.tagged`'s changes): the tags are still read from the log. No run before this
  // version has tags.
  `
  CREATE TABLE run_tags (
    run_id TEXT NOT NULL REFERENCES runs(id),
    tag TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX run_tags_tag ON run_tags(tag, run_id);
  CREATE TRIGGER run_tags_started AFTER INSERT ON events WHEN NEW.type = 'run.started'
    BEGIN
      INSERT OR IGNORE INTO run_tags (run_id, tag)
        SELECT NEW.run_id, value FROM json_each(NEW.data, '$.tags');
    END;
  CREATE TRIGGER run_tags_changed AFTER INSERT ON events WHEN NEW.type = 'run.tagged'
    BEGIN
      DELETE FROM run_tags WHERE run_id = NEW.run_id
        AND tag IN (SELECT value FROM json_each(NEW.data, '$.removed'));
      INSERT OR IGNORE INTO run_tags (run_id, tag)
        SELECT NEW.run_id, value FROM json_each(NEW.data, '$.added');
    END;
  `,
];
