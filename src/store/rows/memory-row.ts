import type { ExtractionJob, Memory } from '../../core/memory.ts';

/** Rows of `memories` and `memory_jobs`, the same in every store. */
export interface MemoryRow {
  n: number;
  id: string;
  namespace: string;
  kind: string;
  text: string;
  key: string | null;
  trust: string;
  source: string;
  actor: string | null;
  agent: string | null;
  session_id: string | null;
  run_id: string | null;
  provenance: string;
  status: string;
  supersedes: string | null;
  superseded_by: string | null;
  created_at: string;
  updated_at: string;
}

export interface JobRow {
  id: number;
  run_id: string;
  from_seq: number;
  to_seq: number;
  reason: string;
  spec_path: string | null;
  status: string;
  owner: string | null;
  attempts: number;
  error: string | null;
  created_at: string;
}

/** The columns of a new memory, in the order `memoryValues` gives them. */
export const memoryColumns = [
  'id',
  'namespace',
  'kind',
  'text',
  'key',
  'trust',
  'source',
  'actor',
  'agent',
  'session_id',
  'run_id',
  'provenance',
  'status',
  'supersedes',
  'superseded_by',
  'created_at',
  'updated_at',
] as const;

export function memoryValues(memory: Memory): (string | null)[] {
  const p = memory.provenance;
  return [
    memory.id,
    memory.namespace,
    memory.kind,
    memory.text,
    memory.key ?? null,
    memory.trust,
    p.source,
    p.actor ?? null,
    p.agent ?? null,
    p.sessionId ?? null,
    p.runId ?? null,
    JSON.stringify(p),
    memory.status,
    memory.supersedes ?? null,
    memory.supersededBy ?? null,
    memory.createdAt,
    memory.updatedAt,
  ];
}

/** The provenance of a memory that a later run stated again (the run added once). */
export function confirmedProvenance(
  memory: Memory,
  runId: string | undefined,
): Memory['provenance'] {
  const confirmedBy = memory.provenance.confirmedBy ?? [];
  if (runId && runId !== memory.provenance.runId && !confirmedBy.includes(runId)) {
    confirmedBy.push(runId);
  }
  return confirmedBy.length ? { ...memory.provenance, confirmedBy } : memory.provenance;
}

/**
 * The words of a query a full-text index looks for: lower-cased, split on anything but
 * letters and digits, one-letter words dropped (not one-digit ones), each once, at most 64.
 * Being letters and digits only, no word can be taken as query syntax.
 */
export function queryWords(query: string): string[] {
  const words = query
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length > 1 || /\p{N}/u.test(word));
  return [...new Set(words)].slice(0, 64);
}

export function toMemory(row: MemoryRow): Memory {
  return {
    id: row.id,
    namespace: row.namespace,
    kind: row.kind as Memory['kind'],
    text: row.text,
    ...(row.key ? { key: row.key } : {}),
    trust: row.trust as Memory['trust'],
    provenance: JSON.parse(row.provenance),
    status: row.status as Memory['status'],
    ...(row.supersedes ? { supersedes: row.supersedes } : {}),
    ...(row.superseded_by ? { supersededBy: row.superseded_by } : {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function toJob(row: JobRow): ExtractionJob {
  return {
    id: Number(row.id),
    runId: row.run_id,
    fromSeq: Number(row.from_seq),
    toSeq: Number(row.to_seq),
    reason: row.reason as ExtractionJob['reason'],
    ...(row.spec_path ? { specPath: row.spec_path } : {}),
    status: row.status as ExtractionJob['status'],
    attempts: Number(row.attempts),
    ...(row.error ? { error: row.error } : {}),
    createdAt: row.created_at,
  };
}

/** A vector's values as the bytes a store keeps, and back. */
export function vectorBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function vectorValues(bytes: Uint8Array): Float32Array {
  return new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
}
