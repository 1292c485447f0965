import type { JsonValue } from '../core/messages.ts';
import type { Tool } from '../tools/tool.ts';
import { withOrigin } from '../tools/tool-origin.ts';
import type { Episode } from './episode.ts';
import { loggedObservation } from './observation-digest.ts';

/** The names the agent calls an environment by. */
export const environmentToolNames = { step: 'env_step', observe: 'env_observe' } as const;

/**
 * The tools an environment is offered to an agent as: `env_step`, whose input schema is the
 * environment's action space (one call, one action, one step of the episode), and
 * `env_observe`, which shows the current observation without acting. Their policy actions are
 * `env.step` and `env.observe` (origin `environment`).
 */
export function environmentTools(episode: Episode): Tool[] {
  const { environment } = episode;
  const step: Tool = {
    name: environmentToolNames.step,
    description: `Take one action in the ${environment.kind} environment. Returns the step's observation, reward, the return so far, and whether the episode terminated (goal reached) or was truncated (step limit).`,
    inputSchema: environment.actionSpace,
    // A step is an effect; after a crash the environment is rebuilt from the log (restore),
    // where a step without a logged result never happened, so its call runs again.
    idempotent: false,
    checksIdempotencyKey: true,
    validate(input) {
      const checked = environment.parseAction(input);
      return checked.ok ? { ok: true, value: checked.action } : checked;
    },
    async execute(input, context): Promise<JsonValue> {
      const record = await episode.step(input as JsonValue, context.idempotencyKey, context.signal);
      return record as unknown as JsonValue;
    },
    restore(events, signal) {
      return episode.restore(events, signal);
    },
  };
  const observe: Tool = {
    name: environmentToolNames.observe,
    description: `Look at the ${environment.kind} environment without acting: the current observation.`,
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    idempotent: true,
    validate(input) {
      if (input && typeof input === 'object' && !Array.isArray(input)) {
        if (Object.keys(input).length === 0) return { ok: true, value: {} };
      }
      return { ok: false, error: 'env_observe takes no arguments (send {})' };
    },
    async execute(_, context): Promise<JsonValue> {
      if (!episode.started) await episode.start(context.signal);
      return {
        observation: loggedObservation(episode.observation!),
        ...(episode.over ? { over: episode.over } : {}),
      };
    },
  };
  return [step, observe].map((tool) =>
    withOrigin(tool, {
      kind: 'environment',
      environment: environment.kind,
      tool: tool === step ? 'step' : 'observe',
    }),
  );
}
