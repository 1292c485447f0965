import type { Limits } from '../../src/core/events.ts';
import { defineTool, z } from '../../src/index.ts';
import type { Model, ModelRequest, ModelStreamPart } from '../../src/models/model.ts';
import { type Script, ScriptedModel } from '../../src/models/scripted-model.ts';
import type { Authorizer } from '../../src/policy/authorizer.ts';
import type { TeamMemberSetup, TeamSetup } from '../../src/teams/runner.ts';
import type { Tool } from '../../src/tools/tool.ts';

/** A scripted model that waits `latencyMs` before each answer (a model of fixed latency). */
export function slowModel(id: string, script: Script, latencyMs: number): Model {
  const inner = new ScriptedModel(id, script);
  return {
    provider: inner.provider,
    id: inner.id,
    entry: inner.entry,
    async *stream(request: ModelRequest, signal?: AbortSignal): AsyncIterable<ModelStreamPart> {
      signal?.throwIfAborted();
      if (latencyMs > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, latencyMs);
          signal?.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              reject(signal.reason);
            },
            { once: true },
          );
        });
      }
      yield* inner.stream(request, signal);
    },
  };
}

/** A tool that takes `ms` and says which task it worked on. */
export function workTool(ms: number, done: string[] = []): Tool {
  return defineTool({
    name: 'work',
    description: 'Does the work of a task.',
    input: z.object({}),
    idempotent: true,
    async execute(_, { runId }) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      done.push(runId);
      return 'worked';
    },
  });
}

export interface MemberOptions {
  script: Script;
  tools?: Tool[];
  latencyMs?: number;
  limits?: Partial<Limits>;
  policy?: Authorizer;
  instructions?: string;
}

export function member(name: string, role: string, options: MemberOptions): TeamMemberSetup {
  return {
    name,
    role,
    lead: role === 'lead',
    agent: {
      name,
      instructions: options.instructions ?? '',
      model: slowModel(name, options.script, options.latencyMs ?? 0),
      tools: options.tools ?? [],
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.policy ? { policy: options.policy } : {}),
    },
  };
}

/** A worker's script: do the work, then answer with the task (the first lines of its brief). */
export const workerScript: Script = {
  turns: [{ tool_calls: [{ name: 'work' }] }, { text: 'part done: {{task}}' }],
};

export function team(
  lead: TeamMemberSetup,
  teammates: TeamMemberSetup[],
  options: Partial<Pick<TeamSetup, 'maxRunning' | 'budget' | 'name'>> = {},
): TeamSetup {
  return {
    name: options.name ?? 'crew',
    lead,
    teammates,
    maxRunning: options.maxRunning ?? teammates.length,
    budget: options.budget ?? {},
  };
}
