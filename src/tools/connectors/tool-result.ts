import type { CallToolResult } from '@modelcontextprotocol/server';
import { oneLine } from './connector-error.ts';

/** A successful tool result carrying text (and, for tools with an output schema, data). */
export function textResult(
  text: string,
  structuredContent?: Record<string, unknown>,
): CallToolResult {
  return structuredContent === undefined
    ? { content: [{ type: 'text', text }] }
    : { content: [{ type: 'text', text }], structuredContent };
}

/** An error result the agent reads and can act on: one line. */
export function errorResult(
  message: string,
  structuredContent?: Record<string, unknown>,
): CallToolResult {
  return { ...textResult(message, structuredContent), isError: true };
}

/**
 * Runs a tool handler and turns anything it throws into a one-line error result, so no
 * stack trace or multi-line message reaches the agent.
 */
export async function guarded(run: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await run();
  } catch (error) {
    return errorResult(oneLine(error));
  }
}
