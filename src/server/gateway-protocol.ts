import {
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  type Server,
  type ServerContext,
  UriTemplate,
} from '@modelcontextprotocol/server';
import type { RunEvent } from '../core/events.ts';
import type { ServerEntry } from '../tools/registry/server-entry.ts';

/*
 * How the gateway speaks to its callers: the names they see, URI template matching, the
 * capabilities passed on to servers, and the results and progress lines it writes.
 */

/** The name callers see for a server's tool or prompt. */
export function exposedName(entry: ServerEntry, name: string): string {
  return entry.gateway?.prefix === false ? name : `${entry.name}__${name}`;
}

/**
 * Why a server's tool or prompt is not offered under its exposed name, or undefined when it
 * may be: the gateway's own namespace (`agentd__`, whose actions policies grant as the
 * gateway's own tools) belongs to no registered server, and a bare name (`prefix: false`)
 * with `__` could pass for another server's item. Without this, a server could shadow the
 * launcher or another server's tool, and take calls (and permits) meant for them.
 */
export function shadowingReason(entry: ServerEntry, name: string): string | undefined {
  if (entry.name === ownServerName) {
    return `the server is named "${ownServerName}", the gateway's own tools' name`;
  }
  if (entry.gateway?.prefix === false && name.includes('__')) {
    return `"${name}" is offered without a prefix but has "__", which names another server's items`;
  }
  return undefined;
}

/** The name of the gateway's own tools' namespace. */
export const ownServerName = 'agentd';

export function matches(template: string, uri: string): boolean {
  try {
    return new UriTemplate(template).match(uri) !== null;
  } catch {
    return false;
  }
}

/**
 * What the caller can answer (elicitation, sampling, roots), as it declared it: in the
 * request (2026-07-28), or at initialize (2025-11-25). Passed on to servers in the request's
 * `_meta`, so a server asks the caller only for what it can give.
 */
export function callerCapabilities(
  server: Server,
  ctx: ServerContext,
): ClientCapabilities | undefined {
  const declared =
    ((ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY] as
      | ClientCapabilities
      | undefined) ?? server.getClientCapabilities();
  if (!declared) return undefined;
  const out: ClientCapabilities = {};
  if (declared.elicitation) out.elicitation = declared.elicitation;
  if (declared.sampling) out.sampling = declared.sampling;
  if (declared.roots) out.roots = declared.roots;
  return out;
}

export function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** One line for a launched run's progress notification. */
export function progressLine(event: RunEvent): string {
  switch (event.type) {
    case 'model.request':
      return `turn ${event.data.turn}`;
    case 'tool.call':
      return `calling ${event.data.name}`;
    case 'tool.result':
      return `${event.data.name} ${event.data.isError ? 'failed' : 'done'}`;
    case 'run.finished':
      return `run ${event.data.status}`;
    default:
      return event.type;
  }
}
