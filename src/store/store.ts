import type {
  AnswerResult,
  ApprovalAnswer,
  ApprovalRecord,
  ApprovalRequest,
  ApprovalStatus,
} from '../core/approval.ts';
import type { AuditEntry, AuditHead, AuditRecord } from '../core/audit.ts';
import { AgentdError } from '../core/errors.ts';
import type { FinishReason, RunEvent, RunStatus } from '../core/events.ts';
import type { Usage } from '../core/usage.ts';
import type { MemoryStore } from './memory-store.ts';
import type { TeamStore } from './team-store.ts';

/** One row per run, for listing; its status comes from its events. */
export interface RunSummary {
  id: string;
  agent: string;
  model: string;
  task: string;
  parentRunId?: string;
  /** Who the run is for, and the session it continues (memory). */
  actor?: string;
  sessionId?: string;
  /** Its tags, sorted (absent: none). */
  tags?: string[];
  createdAt: string;
  status: RunStatus;
  reason?: FinishReason;
  turns?: number;
  usage?: Usage;
  costUsd?: number | null;
  finishedAt?: string;
}

/** Which process is running a run, and when it last said so. */
export interface RunLease {
  runId: string;
  /** `host:pid` of the process running it. */
  owner: string;
  heartbeatAt: string;
  /** How many times the lease was taken: an owner's appends are fenced by the one it took. */
  generation: number;
}

/** What an append of a lease holder carries, so an owner that lost the lease cannot append. */
export interface LeaseFence {
  owner: string;
  generation: number;
}

/** A registered MCP server: its entry (JSON, no secret values) and its sealed secrets. */
export interface ServerRecord {
  name: string;
  entry: unknown;
  /** Ciphertext of the secret values, or null when there are none. */
  sealedSecrets: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A tool a registered server offers, as last listed. */
export interface ToolRecord {
  server: string;
  name: string;
  description: string;
  inputSchema: unknown;
  annotations?: unknown;
  listedAt: string;
}

/** A saved version of a named policy set: its `.cedar` files, as text. */
export interface PolicySetRecord {
  name: string;
  version: number;
  files: { name: string; text: string }[];
  /** SHA-256 of the files (names and texts): the same set saved twice is the same version. */
  digest: string;
  createdAt: string;
  /** Whether this version is the one in force. */
  active: boolean;
}

/** An API key of `agentd serve`: a hash of the key, never the key. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  /** SHA-256 of the key, hex. */
  hash: string;
  scopes: string[];
  createdAt: string;
  revokedAt?: string;
}

/** A score an evaluator gave a run, kept with the run (see src/evals). */
export interface EvalScoreRecord {
  runId: string;
  /** What scored it: `online` for online evaluation. */
  source: string;
  evaluator: string;
  kind: string;
  level: string;
  score: number;
  pass: boolean;
  threshold: number;
  explanation: string;
  /** Set when the evaluator could not score (the score is 0). */
  error?: string;
  /** The judge calls behind the score: model, prompt version, usage, cost (JSON). */
  judge?: { [key: string]: unknown };
  scoredAt: string;
  /** The run's agent (read from the run, not stored with the score). */
  agent?: string;
}

export interface ListEvalScoresOptions {
  runId?: string;
  source?: string;
  /** Scores of at most this many runs, the most recently scored first. */
  runs?: number;
}

export interface ListRunsOptions {
  limit?: number;
  status?: RunStatus;
}

/** What a list of runs may be narrowed to (all given filters apply), one page at a time. */
export interface RunQuery {
  agent?: string;
  status?: RunStatus;
  actor?: string;
  session?: string;
  /** Runs of a team: its lead's and its members'. */
  team?: string;
  /** Started at or after (ISO time). */
  since?: string;
  /** Started before (ISO time). */
  until?: string;
  /** Finished runs whose cost is in this range. */
  minCostUsd?: number;
  maxCostUsd?: number;
  /** Words in the task, or the start of the run id (case-insensitive). */
  search?: string;
  /** Runs that have every one of these tags. */
  tags?: readonly string[];
  /** Where the previous page ended (its `nextCursor`). */
  cursor?: string;
  /** Runs per page (default 50). */
  limit?: number;
}

export interface RunPage {
  runs: RunSummary[];
  /** Present when more runs match: pass it as `cursor` for the next page. */
  nextCursor?: string;
}

/** An evaluation suite's result (`agentd eval run`), kept in the store for the console. */
export interface EvalResultRecord {
  id: string;
  suite: string;
  startedAt: string;
  /** The suite's score; null when nothing was scored. */
  score: number | null;
  cases: number;
  passed: number;
  failed: number;
  errors: number;
  /** The whole result, in the `agentd.eval.result/1` format of result.json. */
  result: { [key: string]: unknown };
}

/** A run's append-only event log, and the runs it registers. */
export interface RunLogStore {
  /**
   * Appends events atomically (all or none). A `run.started` event registers the run, with its
   * tags; a `run.tagged` event changes them. A bad tag, or a change that leaves a run more than
   * 32 tags, refuses the append (`AgentdError`, one line). With
   * `fence`, the append is refused (`LeaseLostError`) unless the run's lease is still held by
   * that owner at that generation, checked in the same transaction.
   */
  append(events: readonly RunEvent[], fence?: LeaseFence): Promise<void>;
  /** A run's events in order, optionally only those after `afterSeq`, at most `limit`. */
  readEvents(runId: string, options?: { afterSeq?: number; limit?: number }): Promise<RunEvent[]>;
  /** A run by id or by a unique id prefix. */
  getRun(idOrPrefix: string): Promise<RunSummary | undefined>;
  /** Runs, newest first. */
  listRuns(options?: ListRunsOptions): Promise<RunSummary[]>;
  /** A page of the runs matching `query`, newest first; a bad cursor throws `BadCursorError`. */
  queryRuns(query: RunQuery): Promise<RunPage>;
}

/** Who drives a run now: coordination between processes, never history. */
export interface LeaseStore {
  /** The lease on a run, if a process holds or held one. */
  getLease(runId: string): Promise<RunLease | undefined>;
  /**
   * Takes the lease on a run if its current owner is `expectedOwner` (null: nobody), in one
   * atomic step, moving its generation on; the lease taken, or undefined when another process
   * got there first.
   */
  claimLease(
    runId: string,
    owner: string,
    expectedOwner: string | null,
    at: string,
  ): Promise<RunLease | undefined>;
  /** Moves the heartbeat of a lease still held by `owner`; false when it is not. */
  renewLease(runId: string, owner: string, at: string): Promise<boolean>;
  releaseLease(runId: string, owner: string): Promise<void>;
  listLeases(): Promise<RunLease[]>;
}

/** The registry of MCP servers and the tools they offer. */
export interface RegistryStore {
  /** Adds or replaces a registered server. */
  putServer(record: ServerRecord): Promise<void>;
  getServer(name: string): Promise<ServerRecord | undefined>;
  listServers(): Promise<ServerRecord[]>;
  /** Removes a server and everything indexed about it; false when there was none. */
  deleteServer(name: string): Promise<boolean>;
  /** Replaces what is known of a server's tools. */
  setServerTools(server: string, tools: readonly ToolRecord[]): Promise<void>;
  listServerTools(server?: string): Promise<ToolRecord[]>;
  /**
   * Tools ranked by how well their name and description match the words of `query` (a word
   * of the name counts five times a word of the description; words match as prefixes).
   */
  searchTools(query: string, limit: number): Promise<(ToolRecord & { score: number })[]>;
}

/** Named policy sets, every saved version, and the one in force. */
export interface PolicySetStore {
  /**
   * Saves a version of a policy set (the next version number, or the existing version when
   * the same files were saved before) and returns it.
   */
  savePolicySet(
    name: string,
    files: readonly { name: string; text: string }[],
    digest: string,
    at: string,
  ): Promise<PolicySetRecord>;
  /** A version of a set (the active one when `version` is not given). */
  getPolicySet(name: string, version?: number): Promise<PolicySetRecord | undefined>;
  /** Every saved version, by name then version. */
  listPolicySets(): Promise<PolicySetRecord[]>;
  /** Makes a saved version the one in force. */
  activatePolicySet(name: string, version: number, at: string): Promise<void>;
}

/** API keys of `agentd serve`, kept as hashes. */
export interface ApiKeyStore {
  putApiKey(record: ApiKeyRecord): Promise<void>;
  /** The key with this hash, revoked or not. */
  findApiKey(hash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked; false when there is no key with this id. */
  revokeApiKey(id: string, at: string): Promise<boolean>;
}

/** The hash-chained audit log of policy decisions, across runs. */
export interface AuditStore {
  /**
   * Appends a policy decision to the audit log, chained to the entry before it, in one
   * transaction with the log's head (concurrent writers, even in other processes, queue).
   */
  appendAudit(entry: AuditEntry): Promise<AuditRecord>;
  /** Audit entries in `seq` order (newest first with `newestFirst`), optionally of one run. */
  listAudit(options?: ListAuditOptions): Promise<AuditRecord[]>;
  /** The audit log's head as last recorded (undefined while it is empty). */
  auditHead(): Promise<AuditHead | undefined>;
}

/** Requests for a person's approval of a tool call, and their answers. */
export interface ApprovalStore {
  /**
   * Records a request for a person's approval of a call, pending; when the call already has
   * one (the run was resumed while it waited), returns that one as it stands instead.
   */
  requestApproval(request: ApprovalRequest): Promise<ApprovalRecord>;
  /** A request by id or by a unique id prefix. */
  getApproval(idOrPrefix: string): Promise<ApprovalRecord | undefined>;
  /** Requests, newest first. */
  listApprovals(options?: ListApprovalsOptions): Promise<ApprovalRecord[]>;
  /**
   * Answers a pending request, with its audit entry, in one transaction: the first answer
   * wins and later ones get the request as it was closed. A request past its expiry is
   * closed as `timed_out` instead of taking the answer. Undefined: no such request.
   */
  answerApproval(id: string, answer: ApprovalAnswer): Promise<AnswerResult | undefined>;
}

/** Scores evaluators gave runs, kept with the runs. */
export interface EvalScoreStore {
  /** Keeps scores with their runs, replacing a run's earlier score of the same source and evaluator. */
  putEvalScores(scores: readonly EvalScoreRecord[]): Promise<void>;
  /** Kept scores, the most recently scored runs first (a run's scores in evaluator order). */
  listEvalScores(options?: ListEvalScoresOptions): Promise<EvalScoreRecord[]>;
}

/** Evaluation suites' results, as `agentd eval run` made them. */
export interface EvalResultStore {
  /** Keeps a suite's result (replacing one of the same id). */
  putEvalResult(record: EvalResultRecord): Promise<void>;
  /** A kept result by id or a unique prefix of one. */
  getEvalResult(idOrPrefix: string): Promise<EvalResultRecord | undefined>;
  /** Kept results, newest first, without their `result` (optionally of one suite). */
  listEvalResults(options?: {
    suite?: string;
    limit?: number;
  }): Promise<Omit<EvalResultRecord, 'result'>[]>;
}

/**
 * The one place that talks to a database. Implementations: SQLite (embedded default),
 * Postgres (scale-out), each one file per part below, over one connection (SQLite) or pool
 * (Postgres). All writes to a run are appends of events; `append` resolves only once the
 * events are durable at the store's durability level, and refuses an event whose
 * `(runId, seq)` is already taken. One contract suite (test/store/) runs against both.
 */
export interface Store
  extends RunLogStore,
    LeaseStore,
    RegistryStore,
    PolicySetStore,
    ApiKeyStore,
    AuditStore,
    ApprovalStore,
    EvalScoreStore,
    EvalResultStore {
  /** Long-term memory: memories, their indexes, queued extractions, sessions. */
  readonly memories: MemoryStore;
  /** Agent teams: teams, their task boards, the runs of their members, their logs. */
  readonly teams: TeamStore;
  /**
   * Postgres only (LISTEN/NOTIFY): tells `fn` of every change of a kind, made by any process,
   * with its key (`events`: a run's id, `approvals`: an approval's id once answered, `board`: a
   * team's id, `cancel`: a run someone asked to cancel); resolves once listening, with the
   * removal. Without it (SQLite) a process finds others' changes by reading again.
   */
  subscribe?(topic: ChangeTopic, fn: (key: string) => void): Promise<() => void>;
  /** Postgres only: tells every subscriber of `topic`, in every process, of `key`. */
  publish?(topic: ChangeTopic, key: string): Promise<void>;
  close(): Promise<void>;
}

/** The kinds of change a store tells its subscribers of (`Store.subscribe`). */
export type ChangeTopic = 'events' | 'approvals' | 'board' | 'cancel';

export interface ListApprovalsOptions {
  status?: ApprovalStatus;
  runId?: string;
  limit?: number;
}

export interface ListAuditOptions {
  runId?: string;
  afterSeq?: number;
  limit?: number;
  newestFirst?: boolean;
}

/**
 * `process`: nothing committed is lost when the process dies; the last commits may roll back
 * if the machine loses power. `machine`: committed events survive power loss; concurrent
 * appends share one fsync.
 */
export type Durability = 'process' | 'machine';

/** An append fenced by a lease its owner no longer holds (another process took the run). */
/** An append refused because another process took the run: it goes on there, not here. */
export class LeaseLostError extends AgentdError {
  constructor(runId: string, fence: LeaseFence) {
    super(
      'run_busy',
      `run ${runId} is no longer leased to ${fence.owner} at generation ${fence.generation}; another process took it and goes on with it (see it with agentd runs show ${runId})`,
    );
    this.name = 'LeaseLostError';
  }
}

export class DuplicateEventError extends Error {
  constructor(runId: string, seq: number) {
    super(`event ${runId}#${seq} is already in the log`);
    this.name = 'DuplicateEventError';
  }
}

/** A `cursor` this store did not hand out (`queryRuns`). */
export class BadCursorError extends Error {
  constructor(cursor: string) {
    super(`cursor: "${cursor}" is not one this list gave (start again without it)`);
    this.name = 'BadCursorError';
  }
}
