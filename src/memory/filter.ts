import { AgentdError } from '../core/errors.ts';
import { checkNamespace, type MemoryFilter, type MemoryKind, memoryKinds } from '../core/memory.ts';

/** Which memories to list or search, as a person gives them (flags, query parameters). */
export interface MemoryFilterInput {
  actor?: string;
  agent?: string;
  team?: string;
  namespace?: readonly string[];
  kind?: readonly string[];
}

/**
 * The filter for what a person asked, or a usage error naming the field as they wrote it
 * (`label('namespace')` is `--namespace` on the command line, `namespace` over HTTP).
 */
export function memoryFilterOf(
  input: MemoryFilterInput,
  label: (field: 'namespace' | 'kind') => string = (field) => field,
): MemoryFilter {
  const namespaces = [...(input.namespace ?? [])];
  for (const ns of namespaces) {
    const problem = checkNamespace(ns);
    if (problem) throw new AgentdError('usage', `${label('namespace')}: ${problem}`);
  }
  if (input.agent) namespaces.push(`/agent/${input.agent}`);
  if (input.team) namespaces.push(`/team/${input.team}`);
  const kinds = (input.kind ?? []).map((kind) => {
    if (!(memoryKinds as readonly string[]).includes(kind)) {
      throw new AgentdError(
        'usage',
        `${label('kind')}: "${kind}" is not a kind of memory (use one of: ${memoryKinds.join(', ')})`,
      );
    }
    return kind as MemoryKind;
  });
  return {
    ...(namespaces.length ? { namespaces } : {}),
    ...(kinds.length ? { kinds } : {}),
    ...(input.actor ? { actor: input.actor } : {}),
  };
}
