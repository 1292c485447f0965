import type { RunEvent } from '../core/events.ts';
import type { JsonValue } from '../core/messages.ts';
import type { JsonSchema } from '../models/model.ts';

export interface ToolContext {
  /** Aborted when the run is cancelled; long work should stop when it fires. */
  signal: AbortSignal;
  runId: string;
  callId: string;
  /** The same for every attempt of this call (including after a crash): dedupe effects on it. */
  idempotencyKey: string;
  /**
   * True when this call may have run before: the run was interrupted while it ran and is
   * now resumed. A tool that `checksIdempotencyKey` looks its key up before acting.
   */
  repeated: boolean;
  /** Reports how far a long call has come; the run records it (throttled). */
  onProgress?: (progress: ToolProgress) => void;
}

export interface ToolProgress {
  progress: number;
  total?: number;
  message?: string;
}

export type ValidationResult = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Anything an agent can call: in-process functions now; MCP tools and built-in connectors
 * implement the same interface.
 */
export interface Tool {
  readonly name: string;
  readonly description: string;
  /** JSON Schema of the input, as models and MCP take it. */
  readonly inputSchema: JsonSchema;
  /** True when running it twice with the same input has the effect of running it once. */
  readonly idempotent?: boolean;
  /**
   * True when the tool detects a repeat by its idempotency key (for example, it records the
   * key with the effect and skips the effect when the key is already there). Such a call is
   * re-run after a crash; a call that is neither idempotent nor key-checked is not.
   */
  readonly checksIdempotencyKey?: boolean;
  /** Checks the model's arguments; the error text goes back to the model to repair them. */
  validate(input: unknown): ValidationResult;
  /** Runs a validated input; throwing gives the model an error result. */
  execute(input: unknown, context: ToolContext): Promise<JsonValue>;
  /**
   * For a tool that keeps state across calls of a run (an environment's episode): rebuilds it
   * from the run's log before a resumed run goes on. Throwing stops the resume.
   */
  restore?(events: readonly RunEvent[], signal?: AbortSignal): Promise<void>;
}

export function isTool(value: unknown): value is Tool {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.name === 'string' &&
    typeof v.description === 'string' &&
    typeof v.inputSchema === 'object' &&
    typeof v.validate === 'function' &&
    typeof v.execute === 'function'
  );
}

/** Whatever a tool returned, as a value the log and the model can hold. */
export function toJsonValue(value: unknown): JsonValue {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  try {
    return JSON.parse(JSON.stringify(value)) as JsonValue;
  } catch {
    return String(value);
  }
}
