/**
 * Errors a user can act on. `message` is one line that says what was wrong (file, field,
 * value) and what to do; the CLI prints it without a stack trace. Anything that is not an
 * AgentdError is a bug and keeps its stack.
 */
export type ErrorCode =
  | 'spec_invalid'
  | 'spec_not_found'
  | 'config_invalid'
  | 'model_unknown_provider'
  | 'model_credentials_missing'
  | 'model_request_failed'
  | 'model_load_failed'
  | 'tool_load_failed'
  | 'run_not_found'
  | 'run_busy'
  | 'run_not_resumable'
  | 'tag_invalid'
  | 'registry_conflict'
  | 'registry_not_found'
  | 'registry_invalid'
  | 'store_failed'
  | 'policy_invalid'
  | 'telemetry_export_failed'
  | 'dataset_empty'
  | 'dataset_invalid'
  | 'dataset_terms_refused'
  | 'secret_in_dataset'
  | 'design_invalid'
  | 'design_budget_exceeded'
  | 'audio_invalid'
  | 'audio_converter_missing'
  | 'voice_provider_failed'
  | 'voice_engine_missing'
  | 'usage';

export class AgentdError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(shortenValues(message), options);
    this.name = 'AgentdError';
    this.code = code;
  }
}

export function isAgentdError(error: unknown): error is AgentdError {
  return error instanceof AgentdError;
}

/** The first line of any thrown value, for recording in events and showing to people. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] || error.name;
  return String(error);
}

/** Longer than this, a quoted value in a message is shown by its start and its length. */
const LONG_VALUE = 200;
const SHOWN_VALUE = 100;
const longWord = new RegExp(`[^\\s"]{${LONG_VALUE + 1},}`, 'g');
/** A message is one line a terminal can show: longer than this, it is cut. */
const LONGEST_MESSAGE = 1_500;
const longQuoted = new RegExp(`"([^"]{${LONG_VALUE + 1},})"`, 'g');

/**
 * A message with each long quoted value cut to its start: a file may hold a scalar of
 * megabytes, and the one line that names it should still fit a terminal's scrollback.
 */
function shortenValues(message: string): string {
  // A value with a line break in it (a path, a name, a scalar from a file) would break the one
  // line a user error is: its breaks are shown escaped.
  const flat = message.replaceAll('\r', '\\r').replaceAll('\n', '\\n');
  const short = flat
    .replace(
      longQuoted,
      (_, value: string) => `"${value.slice(0, SHOWN_VALUE)}…" (${value.length} characters)`,
    )
    // an unquoted value (a path, a list a file gave) the same way
    .replace(
      longWord,
      (value: string) => `${value.slice(0, SHOWN_VALUE)}… (${value.length} characters)`,
    );
  return short.length > LONGEST_MESSAGE ? `${short.slice(0, LONGEST_MESSAGE)}…` : short;
}
