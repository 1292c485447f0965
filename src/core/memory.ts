/**
 * Long-term memory: what agents remember across runs, where each memory came from, and how
 * far it may be trusted. Plain types; the store keeps them (src/store), the bank writes and
 * recalls them (bank.ts).
 */

/** The strategies: what extraction looks for, and the kind of memory each writes. */
export const memoryKinds = ['fact', 'preference', 'summary', 'episode'] as const;
export type MemoryKind = (typeof memoryKinds)[number];

/**
 * Who said it: the person (the task, their messages), the model (its own answers and
 * conclusions), or a tool's output (a web page, a file, a command's output).
 */
export type MemorySource = 'user' | 'model' | 'tool';

/**
 * Tool-derived memories are `untrusted`: recalled only as quoted data, never as
 * instructions, and never allowed to replace a trusted memory.
 */
export type MemoryTrust = 'trusted' | 'untrusted';

export function trustOf(source: MemorySource): MemoryTrust {
  return source === 'tool' ? 'untrusted' : 'trusted';
}

export interface MemoryProvenance {
  /** The run it came from (absent for memories written outside a run). */
  runId?: string;
  /** The events of that run it came from (their `seq`). */
  events: number[];
  source: MemorySource;
  /** How it was written: by the extraction model after a run, or by the agent's memory.save. */
  via: 'extraction' | 'tool';
  /** The extraction model, `provider/model-id`. */
  extractor?: string;
  agent?: string;
  actor?: string;
  sessionId?: string;
  /** The tools whose outputs it came from (model-facing names). */
  tools?: string[];
  /** Why agentd put the source where it did, when it did not take the extractor's word for it. */
  note?: string;
  /** Later runs that stated it again: consolidation kept this memory instead of a duplicate. */
  confirmedBy?: string[];
}

export interface Memory {
  /** `mem_...` */
  id: string;
  /** `/actor/{actorId}/...`, `/agent/{agent}/...` or `/team/{team}/...` */
  namespace: string;
  kind: MemoryKind;
  text: string;
  /**
   * What it is about, in a few words ("answer language", "deploy command"): a memory restated
   * with a change supersedes the one with the same key in the same namespace.
   */
  key?: string;
  trust: MemoryTrust;
  provenance: MemoryProvenance;
  /** `superseded`: an earlier version, kept for history, never recalled. */
  status: 'active' | 'superseded';
  /** The earlier version this one replaced. */
  supersedes?: string;
  /** The version that replaced this one. */
  supersededBy?: string;
  createdAt: string;
  updatedAt: string;
}

/** What recall and listing may be limited to. */
export interface MemoryFilter {
  /** Namespace roots: a memory is in when its namespace is one of them or under one. */
  namespaces?: string[];
  kinds?: MemoryKind[];
  /** Only memories whose provenance names this actor, or under /actor/{actor}. */
  actor?: string;
  /** Leave out untrusted memories. */
  trustedOnly?: boolean;
  /** Only memories created or confirmed at or after this ISO time. */
  since?: string;
  /** Superseded versions too (listing only; recall never returns them). */
  includeSuperseded?: boolean;
}

/** A vector of one embedding model, as the store keeps it. */
export interface MemoryVector {
  model: string;
  values: Float32Array;
}

/** A change to the vectors of one model, in the order made: the index replays these. */
export interface VectorChange {
  seq: number;
  /** The memory's row number: the index's label. */
  label: number;
  op: 'add' | 'remove';
  /** For `add`: the vector and what filters need. */
  values?: Float32Array;
  namespace?: string;
  trusted?: boolean;
  createdAt?: string;
}

/** A queued extraction: the events of a run to extract memories from. */
export interface ExtractionJob {
  id: number;
  runId: string;
  /** Events after this seq ... */
  fromSeq: number;
  /** ... up to and including this one. */
  toSeq: number;
  /** Why: the run ended, or compaction took these turns out of the context. */
  reason: 'run_end' | 'compaction';
  specPath?: string;
  status: 'pending' | 'running' | 'done' | 'failed';
  attempts: number;
  error?: string;
  createdAt: string;
}

/** A namespace as written: absolute, `/`-separated, no empty or dot segments. */
export function checkNamespace(namespace: string): string | undefined {
  if (!/^\/(actor|agent|team)\/[^/\s]+(\/[^/\s]+)*$/.test(namespace)) {
    return `"${namespace}" is not a namespace (write /actor/<id>/..., /agent/<name>/... or /team/<name>/...)`;
  }
  if (namespace.split('/').some((part) => part === '.' || part === '..')) {
    return `"${namespace}" has a . or .. segment`;
  }
  return undefined;
}

/** True when `namespace` is `root` or under it. */
export function inNamespace(namespace: string, root: string): boolean {
  const trimmed = root.replace(/\/+$/, '');
  return namespace === trimmed || namespace.startsWith(`${trimmed}/`);
}
