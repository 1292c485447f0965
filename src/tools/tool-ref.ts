/**
 * Where an agent's tools come from, as its spec names them:
 * - `{ module: ./tools.ts }`: in-process TypeScript tools;
 * - `fs.read`, `fs.*`, `mcp:github/*`, `mcp:github/create_issue`: tools of a server in the
 *   registry (or a built-in connector), by name or all of them;
 * - `registry:search`: a tool that searches the registry for tools by what they do;
 * - `resources:github`: tools that list and read a server's resources.
 */
export type ToolSource =
  | { kind: 'module'; module: string; only?: string[] }
  | { kind: 'server'; server: string; tool: string; ref: string }
  | { kind: 'registry-search' }
  | { kind: 'resources'; server: string; ref: string };

/** A tool reference from a spec, or an error message saying what is allowed. */
export function parseToolRef(ref: string): ToolSource | string {
  if (ref === 'registry:search') return { kind: 'registry-search' };
  const resources = /^resources:([a-z0-9][a-z0-9_-]*)$/.exec(ref);
  if (resources) return { kind: 'resources', server: resources[1]!, ref };
  const mcp = /^mcp:([a-z0-9][a-z0-9_-]*)\/(\*|[^/\s]+)$/.exec(ref);
  if (mcp) return { kind: 'server', server: mcp[1]!, tool: mcp[2]!, ref };
  const dotted = /^([a-z0-9][a-z0-9_-]*)\.(\*|[^\s]+)$/.exec(ref);
  if (dotted) return { kind: 'server', server: dotted[1]!, tool: dotted[2]!, ref };
  return `"${ref}" is not a tool reference (write server.tool, server.*, mcp:server/tool, registry:search, resources:server, or { module: ./tools.ts })`;
}

/** The connectors every agentd has, registered by default under these names. */
export const builtinServers = ['fs', 'shell', 'http', 'settings', 'memory'] as const;
export type BuiltinServer = (typeof builtinServers)[number];

export function isBuiltinServer(name: string): name is BuiltinServer {
  return (builtinServers as readonly string[]).includes(name);
}
