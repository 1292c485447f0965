import type { EnvironmentSpec } from '../definition/environment-spec.ts';
import type { ImageSource } from '../models/model.ts';
import type { Tool } from '../tools/tool.ts';
import type { Environment } from './environment.ts';
import { environmentToolNames, environmentTools } from './environment-tools.ts';
import { Episode } from './episode.ts';
import { Gridworld } from './gridworld.ts';

/** An environment opened for one run: its episode and the tools the agent acts through. */
export interface OpenEnvironment {
  spec: EnvironmentSpec;
  episode: Episode;
  tools: Tool[];
  /** The stored frames by digest, for environments that show images (world models). */
  images?: ImageSource;
  /** The task the agent is given: the goal and the first observation. */
  task(goal?: string): string;
  close(): Promise<void>;
}

/** What opening an environment may need from agentd's settings. */
export interface EnvironmentContext {
  /** For a world model's `api_key_env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Where frames are stored, content-addressed (default: `$AGENTD_HOME/frames`). */
  framesDir?: string;
}

/** Makes the environment a spec describes (a world model's server is reached only on reset). */
export async function createEnvironment(
  spec: EnvironmentSpec,
  options: EnvironmentContext = {},
): Promise<Environment> {
  switch (spec.kind) {
    case 'gridworld':
      return new Gridworld({
        ...(spec.size !== undefined ? { size: spec.size } : {}),
        ...(spec.doors !== undefined ? { doors: spec.doors } : {}),
        ...(spec.walls !== undefined ? { walls: spec.walls } : {}),
        maxSteps: spec.max_steps,
      });
    case 'world-model': {
      const { WorldModelEnvironment } = await import('./world-model.ts');
      return WorldModelEnvironment.fromSpec(spec, options);
    }
  }
}

/**
 * Opens the environment and resets it with the spec's seed: the first observation is part of
 * the task, so the agent sees the world before it acts.
 */
export async function openEnvironment(
  spec: EnvironmentSpec,
  options: EnvironmentContext & { signal?: AbortSignal } = {},
): Promise<OpenEnvironment> {
  const environment = await createEnvironment(spec, options);
  const episode = new Episode(
    environment,
    { seed: spec.seed, maxSteps: spec.max_steps, ...(spec.goal ? { goal: spec.goal } : {}) },
    environmentToolNames.step,
  );
  try {
    await episode.start(options.signal);
  } catch (error) {
    await environment.close?.();
    throw error;
  }
  const frames = environment.frames;
  return {
    spec,
    episode,
    tools: environmentTools(episode),
    ...(frames ? { images: (digest: string) => frames.get(digest) } : {}),
    task(goal) {
      const first = episode.observation!;
      const said = goal ?? spec.goal ?? 'Reach the goal.';
      return [
        said,
        '',
        `You act in a ${environment.kind} environment (seed ${spec.seed}, at most ${spec.max_steps} steps): one ${environmentToolNames.step} call is one action. When the episode has terminated, answer with a short summary.`,
        '',
        'First observation:',
        first.text ?? JSON.stringify(first.state ?? {}),
      ].join('\n');
    },
    close: async () => {
      await environment.close?.();
    },
  };
}
