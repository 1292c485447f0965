/** What went wrong talking to an MCP server. */
export type McpErrorKind =
  /** It could not be started or reached, or the handshake failed. */
  | 'unavailable'
  /** The process exited (or the connection dropped) while a request was in flight. */
  | 'exited'
  /** A request took longer than the server's call limit. */
  | 'timeout'
  /** The server sent a message bigger than its output limit. */
  | 'output_limit'
  /** The server wrote more than its output limit to stdout that was not MCP messages. */
  | 'output_flood'
  /** The caller cancelled the request. */
  | 'cancelled'
  /** The server answered with a protocol error (unknown tool, bad params, ...). */
  | 'protocol'
  /** The tool ran and reported an error (`isError`); the message is the server's text. */
  | 'tool_error'
  /** The configuration cannot be run as given (missing bwrap, command not found, ...). */
  | 'config';

/**
 * An error from an MCP server, as one line that names the server. Thrown from a tool's
 * `execute`, its message is what the model sees as the tool's error.
 */
export class McpError extends Error {
  readonly server: string;
  readonly kind: McpErrorKind;

  constructor(server: string, kind: McpErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'McpError';
    this.server = server;
    this.kind = kind;
  }
}

export function isMcpError(error: unknown): error is McpError {
  return error instanceof McpError;
}
