import { AgentdError, errorMessage } from '../core/errors.ts';
import { isTool, type Tool } from './tool.ts';
import { withOrigin } from './tool-origin.ts';
import type { ToolSource } from './tool-ref.ts';
import { importUserModule, UserModuleError } from './user-module.ts';

/** Imports the tool modules an agent spec lists and returns their tools, checked. */
export async function loadTools(
  sources: readonly Extract<ToolSource, { kind: 'module' }>[],
  specPath: string,
): Promise<Tool[]> {
  const tools = new Map<string, Tool>();
  for (const source of sources) {
    let module: Record<string, unknown>;
    try {
      module = await importUserModule(source.module);
    } catch (error) {
      const why = error instanceof UserModuleError ? error : undefined;
      throw new AgentdError(
        'tool_load_failed',
        why?.notFound
          ? `${specPath}: tools: module ${source.module} not found (paths are relative to the spec file)`
          : `${specPath}: tools: ${why ? why.message : errorMessage(error)}`,
        { cause: error },
      );
    }
    const exported = Object.values(module)
      .flatMap((value) => (Array.isArray(value) ? value : [value]))
      .filter(isTool);
    const found = new Map(exported.map((tool) => [tool.name, tool]));
    if (found.size === 0) {
      throw new AgentdError(
        'tool_load_failed',
        `${specPath}: tools: ${source.module} exports no tools (export values made with defineTool)`,
      );
    }
    for (const name of source.only ?? found.keys()) {
      const tool = found.get(name);
      if (!tool) {
        throw new AgentdError(
          'tool_load_failed',
          `${specPath}: tools: ${source.module} has no tool "${name}" (it has: ${[...found.keys()].join(', ')})`,
        );
      }
      if (tools.has(name) && tools.get(name) !== tool) {
        throw new AgentdError(
          'tool_load_failed',
          `${specPath}: tools: two tools are named "${name}"; names must be unique`,
        );
      }
      tools.set(name, withOrigin(tool, { kind: 'module', module: source.module }));
    }
  }
  return [...tools.values()];
}
