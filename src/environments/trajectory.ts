import type { RunEvent } from '../core/events.ts';
import type { JsonValue } from '../core/messages.ts';
import { episodeRecord } from './episode-record.ts';

/**
 * One episode of a recorded run as a dataset line: where it came from (run, agent, model,
 * whether the model was a scripted stand-in), the world (environment, seed, settings, goal),
 * and the trajectory: the first observation, then each action with the observation, reward and
 * flags that followed it. Frames appear by digest (`$AGENTD_HOME/frames/<digest>.png`).
 */
export interface Trajectory {
  [key: string]: JsonValue;
}

/** An episode's line and the tool calls whose actions it holds (`step` unset: an invalid one). */
export interface EpisodeTrajectory {
  trajectory: Trajectory;
  /** The digests of the frames the line names (reset's, then the steps'). */
  frames: string[];
  actions: { callId: string; step?: number }[];
}

/** The trajectory of a run, or undefined when it took no step in an environment. */
export function trajectoryOf(events: readonly RunEvent[]): Trajectory | undefined {
  return episodeTrajectory(events)?.trajectory;
}

/** The trajectory of a run with the calls that chose its actions, or undefined (no step). */
export function episodeTrajectory(events: readonly RunEvent[]): EpisodeTrajectory | undefined {
  const episode = episodeRecord(events);
  const started = events[0];
  if (!episode || started?.type !== 'run.started') return undefined;
  const last = episode.steps.at(-1);
  const success = episode.terminated && last?.info.success !== false;
  const trajectory: Trajectory = {
    source: {
      run: started.runId,
      agent: started.data.agent,
      model: started.data.model,
      scripted: started.data.scripted !== undefined,
      created_at: started.at,
    },
    environment: episode.environment ?? null,
    seed: episode.seed ?? null,
    settings: episode.settings ?? {},
    task: started.data.task,
    first_observation: episode.firstObservation ?? null,
    steps: episode.steps.map((step) => ({
      step: step.step,
      action: step.action,
      observation: step.observation,
      observation_digest: step.observation_digest,
      reward: step.reward,
      terminated: step.terminated,
      truncated: step.truncated,
    })),
    invalid_actions: episode.invalid.map((i) => ({ action: i.action, error: i.error })),
    return: episode.return,
    terminated: episode.terminated,
    truncated: episode.truncated,
    success,
    ...(episode.optimalSteps !== undefined ? { optimal_steps: episode.optimalSteps } : {}),
    frames: episode.frames,
  };
  const actions = [
    ...episode.steps.map((step, i) => ({ callId: episode.stepCalls[i]!, step: step.step })),
    ...episode.invalid.map((i) => ({ callId: i.callId })),
  ];
  return { trajectory, actions, frames: episode.frames };
}
