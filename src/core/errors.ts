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
  | 'registry_conflict'
  | 'registry_not_found'
  | 'registry_invalid'
  | 'store_failed'
  | 'policy_invalid'
  | 'telemetry_export_failed'
  | 'usage';

export class AgentdError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
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
