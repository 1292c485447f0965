import type { Tool } from './tool.ts';
import type { BuiltinServer } from './tool-ref.ts';

/**
 * Where a tool comes from. The policy layer names a tool's Cedar action and finds the
 * resource a call touches from it, so every kind of source an agent can use is listed here:
 * a source that is not is not a tool agentd can run.
 */
export type ToolOrigin =
  /** In-process TypeScript tools: a module named by the spec, or tools given to `runAgent`. */
  | { kind: 'module'; module?: string }
  /** A built-in connector (fs, shell, http, ...), an MCP server inside agentd. */
  | { kind: 'connector'; server: BuiltinServer; tool: string }
  /** A registered MCP server run as a local process. */
  | { kind: 'mcp-stdio'; server: string; tool: string }
  /** A registered MCP server reached over streamable HTTP. */
  | { kind: 'mcp-http'; server: string; tool: string }
  /** `registry:search`: finds registered tools by what they do. */
  | { kind: 'registry-search' }
  /** A tool of an agent team's board and mailboxes (`team__task_claim`, ...): see src/teams. */
  | { kind: 'team'; tool: string }
  /** A tool of the environment the agent acts in (`env_step`, `env_observe`): see src/environments. */
  | { kind: 'environment'; environment: string; tool: string };

export type ToolOriginKind = ToolOrigin['kind'];

const origins = new WeakMap<Tool, ToolOrigin>();

/** Records where a tool comes from; returns the tool. */
export function withOrigin<T extends Tool>(tool: T, origin: ToolOrigin): T {
  origins.set(tool, origin);
  return tool;
}

/** Where a tool comes from: in-process unless a toolset said otherwise. */
export function originOf(tool: Tool): ToolOrigin {
  return origins.get(tool) ?? { kind: 'module' };
}
