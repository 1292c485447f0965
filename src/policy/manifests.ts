import type { JsonSchema } from '../models/model.ts';
import type { Tool } from '../tools/tool.ts';
import { originOf, type ToolOrigin } from '../tools/tool-origin.ts';

/** A tool as the policy layer sees it: its Cedar action, where it comes from, its input. */
export interface ToolManifest {
  /** The Cedar action id: `fs.read`, `github.create_issue`, `count_lines`, `registry:search`. */
  action: string;
  origin: ToolOrigin;
  inputSchema: JsonSchema;
  description?: string;
}

/** What a call of a tool touches, as Cedar resource types. */
export type ResourceKind = 'file' | 'host' | 'server' | 'module' | 'registry';

/**
 * The Cedar action of a tool: `server.tool` for connectors and MCP servers (as specs name
 * them), the tool's own name for in-process tools, `registry:search` for the registry search,
 * `team.<tool>` for a team's board and mailboxes, `env.<tool>` for the environment's step and
 * observe tools.
 */
export function actionOf(origin: ToolOrigin, toolName: string): string {
  switch (origin.kind) {
    case 'module':
      return toolName;
    case 'connector':
    case 'mcp-stdio':
    case 'mcp-http':
      return `${origin.server}.${origin.tool}`;
    case 'registry-search':
      return 'registry:search';
    case 'team':
      return `team.${origin.tool}`;
    case 'environment':
      return `env.${origin.tool}`;
  }
}

/** The action group a tool's action belongs to: its server's name, if it has one. */
export function groupOf(origin: ToolOrigin): string | undefined {
  switch (origin.kind) {
    case 'connector':
    case 'mcp-stdio':
    case 'mcp-http':
      return origin.server;
    case 'team':
      return 'team';
    case 'environment':
      return 'env';
    case 'module':
    case 'registry-search':
      return undefined;
  }
}

/** Input fields that name a file (`fs` connector) or a URL (`http` connector). */
export const pathFields = ['path', 'from', 'to'] as const;

/**
 * What a call touches: for the fs connector the file or folder its path names, for the http
 * connector the host of its URL, otherwise the server (or module) the tool belongs to.
 */
export function resourceKindOf(origin: ToolOrigin, inputSchema: JsonSchema): ResourceKind {
  const properties = (inputSchema as { properties?: Record<string, unknown> }).properties ?? {};
  switch (origin.kind) {
    case 'connector':
      if (origin.server === 'fs' && pathFields.some((f) => f in properties)) return 'file';
      if (origin.server === 'http' && 'url' in properties) return 'host';
      return 'server';
    case 'mcp-stdio':
    case 'mcp-http':
    case 'team':
    case 'environment':
      return 'server';
    case 'module':
      return 'module';
    case 'registry-search':
      return 'registry';
  }
}

/** The manifests of a run's tools. */
export function manifestsOf(tools: readonly Tool[]): ToolManifest[] {
  return tools.map((tool) => {
    const origin = originOf(tool);
    return {
      action: actionOf(origin, tool.name),
      origin,
      inputSchema: tool.inputSchema,
      description: tool.description,
    };
  });
}

/** Manifests in order of authority, one per action: the first one given wins. */
export function mergeManifests(...lists: readonly (readonly ToolManifest[])[]): ToolManifest[] {
  const out = new Map<string, ToolManifest>();
  for (const list of lists) {
    for (const manifest of list) if (!out.has(manifest.action)) out.set(manifest.action, manifest);
  }
  return [...out.values()];
}
