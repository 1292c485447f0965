import type { JsonValue, ProviderCompaction, ToolCall } from './messages.ts';
import type { Usage } from './usage.ts';

/**
 * A run is an append-only list of events. `seq` is dense and increasing per run, and
 * `(runId, seq)` is unique in the store. Everything else about a run is a fold over these.
 */

/**
 * `needs_attention`: paused, a tool call's outcome is unknown after a crash and a person must
 * decide. `suspended`: stopped between steps by a server shutting down; resumed on its next start.
 * `awaiting_approval`: running, but a tool call waits for a person's approval (`agentd approvals`).
 */
export const runStatuses = [
  'running',
  'completed',
  'failed',
  'cancelled',
  'budget_exceeded',
  'needs_attention',
  'suspended',
  'awaiting_approval',
] as const;

export type RunStatus = (typeof runStatuses)[number];

/** Statuses after which nothing more happens in a run. */
export type FinalStatus = Exclude<
  RunStatus,
  'running' | 'needs_attention' | 'suspended' | 'awaiting_approval'
>;

export type BudgetName = 'turns' | 'tokens' | 'cost' | 'time';

/** What bounds a run. Unset budgets are unbounded. */
export interface Limits {
  maxTurns: number;
  maxToolRepairs: number;
  /** Input plus output tokens over the whole run. */
  maxTokens?: number;
  maxCostUsd?: number;
  /** Time the run is active (interruptions between a crash and its resume do not count). */
  maxTimeMs?: number;
}

/** Why a run ended; `status` says how. */
export type FinishReason =
  | 'final_answer'
  | 'max_turns'
  | 'max_tokens'
  | 'max_cost'
  | 'max_time'
  | 'cancelled'
  | 'model_error'
  | 'tool_arguments_invalid'
  | 'internal_error';

/** Why a model stopped producing output, normalized across providers. */
export type StopReason =
  | 'end_turn'
  | 'tool_calls'
  | 'max_tokens'
  | 'content_filter'
  | 'error'
  | 'other';

export interface RunStartedData {
  agent: string;
  /** `provider/model-id` */
  model: string;
  task: string;
  instructions: string;
  tools: { name: string; description: string }[];
  limits: Limits;
  /** Set when the model is the scripted replay, so nobody mistakes its output for a model's. */
  scripted?: { script: string };
  /** Absolute path of the agent spec the run came from (resume reads it again). */
  specPath?: string;
  /** The folder the run started in: tools that work on files see it again on resume. */
  cwd?: string;
  parentRunId?: string;
  /** The policy set the run's tool calls are checked against (absent in older runs: none). */
  policy?: RunPolicy;
  /** Who the run works for: memories under /actor/{actor} are theirs (absent in older runs). */
  actor?: string;
  /** The session it continues: runs with the same actor and session id form one thread. */
  session?: RunSession;
  /**
   * Text pinned before the task in the first message: the session so far (compacted) and
   * recalled memories quoted as data. Only what the model sees changes; the task stays the task.
   */
  context?: string;
  /** What was recalled from long-term memory at the start. */
  memory?: RecallRecord;
  /** The run's tags (`key=value` or names; see run-tags.ts): its spec's and its own. */
  tags?: string[];
  /**
   * The W3C `traceparent` of whoever started the run (an HTTP caller, a gateway call): the
   * run's spans join that trace. Absent: the run's own trace (or its parent run's).
   */
  traceparent?: string;
}

export interface RunSession {
  id: string;
  /** The earlier runs of the session whose conversation is in `context`, oldest first. */
  previousRuns: string[];
  /** True when older runs of the session were summarized to fit the session budget. */
  compacted?: boolean;
  /** The summary of the oldest runs (the next run of the session starts from it). */
  summary?: string;
  /** The runs the summary covers, oldest first. */
  summarized?: string[];
}

/** Memories recalled at a run's start (see docs/memory.md). */
export interface RecallRecord {
  /** `hybrid`: full-text and vector search fused; `full-text`: no embedding model (see note). */
  mode: 'hybrid' | 'full-text';
  /** Why recall is less than hybrid, or anything else a person should know. */
  note?: string;
  /** The namespace roots searched. */
  namespaces: string[];
  memories: {
    id: string;
    kind: string;
    trust: 'trusted' | 'untrusted';
    source: 'user' | 'model' | 'tool';
    score: number;
  }[];
  /**
   * Trusted memories, added to the instructions after the agent's own. Untrusted ones are
   * never here: they are quoted as data in `context`.
   */
  instructions?: string;
  /** Estimated tokens of what recall added (instructions and context). */
  tokens: number;
}

/**
 * The policies a run's tool calls are checked against. `none`: the spec names no policy, and
 * every call is allowed (said so in the run, never silently).
 */
export type RunPolicy =
  | { mode: 'none'; message: string }
  | {
      mode: 'enforce' | 'log_only';
      /** The folder of `.cedar` files. */
      dir: string;
      files: string[];
      policies: number;
      /** Policies annotated `@mode("log_only")`: recorded, never deciding. */
      logOnlyPolicies: number;
      /** SHA-256 of the policy texts and the schema they were checked against. */
      version: string;
      /** How long a call that needs approval waits for an answer before it is denied. */
      approvalTimeoutMs?: number;
    };

/** One policy decision on a tool call, recorded before the call runs (or is refused). */
export interface PolicyDecisionData {
  callId: string;
  /** The tool's name as the model sees it. */
  name: string;
  /** The Cedar action, e.g. `fs.write`. */
  action: string;
  principal: string;
  /** The resources the call touches, as Cedar entity ids. */
  resource: string;
  /** What the policies in force decided (`needs_approval`: allowed once a person approves). */
  decision: 'allow' | 'deny' | 'needs_approval';
  /** What happened to the call: the decision, unless the policy set only logs. */
  effect: 'allow' | 'deny' | 'needs_approval';
  mode: 'enforce' | 'log_only';
  /** The policies that determined the decision. */
  policies: string[];
  /** The policies among them that require a person's approval (`@approval("required")`). */
  approvalPolicies?: string[];
  errors?: string[];
  /** One line: why. */
  reason: string;
  /** What the `@mode("log_only")` policies would have changed, when they would have. */
  logOnly?: { decision: 'allow' | 'deny' | 'needs_approval'; policies: string[] };
  /** SHA-256 of the canonical JSON of the input. */
  inputDigest: string;
  latencyUs: number;
  /** The decision's place in the audit log. */
  auditSeq: number;
}

export interface ModelRequestData {
  turn: number;
  model: string;
  messageCount: number;
  toolCount: number;
  effort?: string;
  /** Tokens the context takes: the provider's last count plus an estimate of what came since. */
  contextTokens?: number;
  /** The model's context window, when known. */
  contextWindow?: number;
}

export interface ModelRetryData {
  turn: number;
  attempt: number;
  delayMs: number;
  status?: number;
  error: string;
}

export interface ModelResponseData {
  turn: number;
  text: string;
  toolCalls: ToolCall[];
  /** The provider compacted the context server-side in this response. */
  compaction?: ProviderCompaction;
  usage: Usage;
  /** USD for this response at the catalog's prices; null when the model has no known price. */
  costUsd: number | null;
  stopReason: StopReason;
  durationMs: number;
}

export interface ToolCallData {
  callId: string;
  name: string;
  input: JsonValue;
  /** Stable across retries of the same call: `${runId}:${seq}` of this event. */
  idempotencyKey: string;
}

export interface ToolProgressData {
  callId: string;
  name: string;
  progress: number;
  total?: number;
  message?: string;
}

export type ToolErrorKind =
  | 'validation'
  | 'unknown_tool'
  | 'execution'
  | 'cancelled'
  /** A policy refused the call; it did not run. */
  | 'denied'
  /** The run was interrupted while the call ran; it was not repeated. */
  | 'in_doubt';

export interface ToolResultData {
  callId: string;
  name: string;
  output: JsonValue;
  isError: boolean;
  errorKind?: ToolErrorKind;
  durationMs: number;
}

export interface RunErrorData {
  code: string;
  message: string;
}

/** Older turns replaced by a summary: only what the model sees changes; the log keeps all. */
export interface ContextCompactedData {
  /** `runtime`: agentd summarized; `provider`: the provider compacted server-side. */
  mode: 'runtime' | 'provider';
  /** Messages after the pinned task that left the context (the summary replaces them). */
  removedMessages: number;
  /** The events whose content left the context. */
  removedEvents: number[];
  tokensBefore: number;
  tokensAfter: number;
  summary: string;
  /**
   * Tool results kept verbatim beside the summary (the spec's `compaction.pin`): the latest of
   * each pinned tool that left the context, or that an earlier compaction pinned.
   */
  pinned?: PinnedResult[];
  /** The model that wrote the summary, and what it cost. */
  model: string;
  usage: Usage;
  costUsd: number | null;
  durationMs: number;
}

/** A tool's result kept verbatim through compaction. */
export interface PinnedResult {
  /** The tool as the model calls it (`update_plan`, `shell__run`). */
  name: string;
  text: string;
}

export interface RunResumedData {
  /** 1 for the first resume, 2 for the next, ... */
  session: number;
  /** Limits in force from here on, when the resume changed them. */
  limits?: Limits;
  /** What to do with tool calls whose outcome is unknown, when a person decided. */
  inDoubt?: 'rerun' | 'skip';
  /** The policy set in force from here on. */
  policy?: RunPolicy;
}

/** A segment of a transcript: seconds from the start of the session's audio. */
export interface TranscriptSegmentData {
  text: string;
  start: number;
  end: number;
  confidence?: number;
}

/**
 * One utterance of a voice session, as transcribed: logged before it becomes a user turn.
 * The audio itself is never in the log; with --keep-audio, the digest of its WAV file
 * (content-addressed in `$AGENTD_HOME/audio/`) is.
 */
export interface VoiceTranscriptData {
  /** 0 for the session's first utterance; a resumed session goes on counting. */
  utterance: number;
  text: string;
  provider: string;
  model: string;
  language?: string;
  segments: TranscriptSegmentData[];
  /** Where the utterance was in the session's audio (ms from its start). */
  startMs: number;
  endMs: number;
  /** Wall-clock milliseconds from the end of speech to the final transcript. */
  finalLatencyMs: number;
  /** The price of the utterance's audio (null: no price in the catalog). */
  costUsd: number | null;
  /** With --keep-audio: the utterance's audio, `$AGENTD_HOME/audio/<sha256>.wav`. */
  audio?: { digest: string; bytes: number };
}

/** A person's next turn in a run that had answered (a voice utterance, a message). */
export interface UserMessageData {
  text: string;
  /** Where it came from. */
  source: 'voice' | 'text';
  /** The voice.transcript event it was transcribed in. */
  transcriptSeq?: number;
}

export interface NeedsAttentionData {
  message: string;
  calls: { callId: string; name: string; input: JsonValue; idempotencyKey: string }[];
}

/**
 * A tool call waits for a person's answer (`agentd approvals approve|deny <approvalId>`). After
 * a resume the run logs it again with `resumed: true` when it waits again: the same request.
 */
export interface ApprovalRequestedData {
  approvalId: string;
  callId: string;
  /** The tool as the model named it. */
  name: string;
  action: string;
  resource: string;
  /** The call's arguments. */
  input: JsonValue;
  /** The policies that require the approval. */
  policies: string[];
  /** Why the call needs approval. */
  reason: string;
  expiresAt: string;
  /** The audit entry of the decision that asked. */
  auditSeq: number;
  /** Logged again after a resume: the run waits for the same request. */
  resumed?: true;
}

/** How a request for approval ended; the call runs only when `approved`. */
export interface ApprovalAnsweredData {
  approvalId: string;
  callId: string;
  name: string;
  answer: 'approved' | 'denied' | 'timed_out' | 'cancelled' | 'withdrawn';
  /** Who answered (`agentd` for a timeout, cancellation or withdrawal). */
  by: string;
  reason?: string;
  /** The audit entry of the answer. */
  auditSeq?: number;
  /** Other calls of the run still waiting for approval. */
  othersWaiting: number;
}

export interface RunSuspendedData {
  /** Why the run stopped where it did, e.g. "agentd serve is shutting down". */
  reason: string;
}

export interface BudgetWarningData {
  budget: BudgetName;
  used: number;
  limit: number;
}

/**
 * Tags put on or taken off a run after it started (`agentd runs tag|untag`): appended under
 * the run's lease, while no process drives it. It is not activity: budgets do not count it.
 */
export interface RunTaggedData {
  added: string[];
  removed: string[];
  /** Who changed them (the user, or the API key's name). */
  by: string;
}

export interface RunFinishedData {
  status: FinalStatus;
  reason: FinishReason;
  /** One line for people: the provider's message, the limit hit, ... */
  detail?: string;
  /** The agent's final answer, when it gave one. */
  output?: string;
  /** Where the run stands, for runs that stopped before a final answer. */
  summary?: string;
  turns: number;
  usage: Usage;
  costUsd: number | null;
  durationMs: number;
}

export interface EventDataMap {
  'run.started': RunStartedData;
  'model.request': ModelRequestData;
  'model.retry': ModelRetryData;
  'model.response': ModelResponseData;
  'tool.call': ToolCallData;
  'tool.progress': ToolProgressData;
  'tool.result': ToolResultData;
  'policy.decision': PolicyDecisionData;
  'run.error': RunErrorData;
  'run.resumed': RunResumedData;
  'context.compacted': ContextCompactedData;
  'run.needs_attention': NeedsAttentionData;
  'run.suspended': RunSuspendedData;
  'approval.requested': ApprovalRequestedData;
  'approval.answered': ApprovalAnsweredData;
  'budget.warning': BudgetWarningData;
  'run.finished': RunFinishedData;
  'voice.transcript': VoiceTranscriptData;
  'user.message': UserMessageData;
  'run.tagged': RunTaggedData;
}

export type RunEventType = keyof EventDataMap;

export type RunEvent = {
  [T in RunEventType]: { runId: string; seq: number; at: string; type: T; data: EventDataMap[T] };
}[RunEventType];

export type EventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;

/** An event before the log gives it its place. */
export type NewEvent = {
  [T in RunEventType]: { type: T; data: EventDataMap[T] };
}[RunEventType];
