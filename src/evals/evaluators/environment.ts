import { type EpisodeRecord, episodeRecord } from '../../environments/episode-record.ts';
import { goalReward, stepReward } from '../../environments/gridworld.ts';
import type { Evaluator, Outcome } from '../types.ts';
import { withinMax } from './operational.ts';

export const environmentKinds = [
  'episode_success',
  'episode_return',
  'optimal_steps',
  'invalid_actions',
] as const;
export type EnvironmentKind = (typeof environmentKinds)[number];

/** The episode ended at its goal: terminated, and not as a failure the environment reported. */
export function succeeded(episode: EpisodeRecord): boolean {
  const last = episode.steps.at(-1);
  return episode.terminated && last?.info.success !== false;
}

/** The best return of the episode, when the environment knows its optimum (the gridworld does). */
function optimalReturn(episode: EpisodeRecord): number | undefined {
  if (episode.optimalSteps === undefined || episode.environment !== 'gridworld') return undefined;
  return goalReward + stepReward * episode.optimalSteps;
}

function measure(kind: EnvironmentKind, episode: EpisodeRecord, max: number): Outcome {
  const steps = episode.steps.length;
  const ended = episode.terminated
    ? `terminated after ${steps} step${steps === 1 ? '' : 's'}`
    : episode.truncated
      ? `truncated at ${steps} steps`
      : `stopped after ${steps} step${steps === 1 ? '' : 's'} without ending`;
  const details = {
    steps,
    return: episode.return,
    terminated: episode.terminated,
    truncated: episode.truncated,
    invalid_actions: episode.invalid.length,
    ...(episode.seed !== undefined ? { seed: episode.seed } : {}),
    ...(episode.optimalSteps !== undefined ? { optimal_steps: episode.optimalSteps } : {}),
  };
  switch (kind) {
    case 'episode_success': {
      const ok = succeeded(episode);
      return {
        score: ok ? 1 : 0,
        explanation: `${ok ? 'reached the goal' : 'did not reach the goal'}: ${ended}`,
        details,
      };
    }
    case 'episode_return': {
      const best = optimalReturn(episode);
      const score =
        best !== undefined && best > 0
          ? Math.max(0, Math.min(1, episode.return / best))
          : Math.max(0, Math.min(1, episode.return));
      return {
        score,
        explanation: `return ${episode.return}${best !== undefined ? ` of the best ${Math.round(best * 1e6) / 1e6}` : ''} (${ended})`,
        details,
      };
    }
    case 'optimal_steps': {
      if (episode.optimalSteps === undefined) {
        const error = `the ${episode.environment ?? 'environment'} does not know the fewest steps to its goal`;
        return { score: 0, explanation: error, error };
      }
      const ok = succeeded(episode);
      return {
        score: ok ? Math.min(1, episode.optimalSteps / Math.max(1, steps)) : 0,
        explanation: ok
          ? `${steps} steps to the goal, the fewest possible is ${episode.optimalSteps}`
          : `did not reach the goal (the fewest steps to it: ${episode.optimalSteps})`,
        details,
      };
    }
    case 'invalid_actions': {
      const n = episode.invalid.length;
      const first = episode.invalid[0];
      return {
        score: withinMax(n, max),
        explanation: `${n} invalid action${n === 1 ? '' : 's'} (max ${max})${first ? `: first ${JSON.stringify(first.action)}: ${first.error.slice(0, 160)}` : ''}`,
        details,
      };
    }
  }
}

/**
 * Scores of an environment episode, read from the run's step results: reaching the goal,
 * the return against the best return, steps against the fewest possible, invalid actions.
 * A run that took no step of an environment is not scored (n/a).
 */
export function environmentEvaluator(options: {
  name: string;
  kind: EnvironmentKind;
  threshold: number;
  max: number;
}): Evaluator {
  return {
    name: options.name,
    kind: options.kind,
    level: 'session',
    threshold: options.threshold,
    judge: 'never',
    async evaluate({ events, case: c }): Promise<Outcome | undefined> {
      const episode = episodeRecord(events);
      if (!episode) {
        if (!c?.episode) return undefined;
        return {
          score: 0,
          explanation: 'the agent took no step in the environment',
          details: { steps: 0 },
        };
      }
      return measure(options.kind, episode, options.max);
    },
  };
}
