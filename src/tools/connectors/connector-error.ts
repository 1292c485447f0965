/**
 * A refusal or failure a connector reports to the agent: `message` is one line naming the
 * path, command or URL and what is allowed. The tool call ends as an error result, the run
 * goes on.
 */
export class ConnectorError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectorError';
  }
}

/** The first line of a thrown value, as a connector shows it. */
export function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]?.trim() || (error instanceof Error ? error.name : 'error');
}
