import type { JsonValue } from '../core/messages.ts';
import { generateGrid, gridworldDefaults, gridworldOptionsSchema } from './gridworld.ts';
import { solveGrid } from './gridworld-solver.ts';

/**
 * The fewest steps to the goal of an episode, from what its first step logged (environment,
 * seed, settings), for environments that can know it; undefined for the others. Computed
 * again from the seed rather than logged, so the agent is never shown it.
 */
export function bestSteps(
  environment: string,
  seed: number,
  settings: { [key: string]: JsonValue },
): number | undefined {
  if (environment !== 'gridworld') return undefined;
  const parsed = gridworldOptionsSchema.safeParse(settings);
  if (!parsed.success) return undefined;
  const { size, doors, walls, max_steps } = parsed.data;
  const { grid, start } = generateGrid(seed, {
    ...gridworldDefaults,
    ...(size !== undefined ? { size } : {}),
    ...(doors !== undefined ? { doors } : {}),
    ...(walls !== undefined ? { walls } : {}),
    ...(max_steps !== undefined ? { maxSteps: max_steps } : {}),
  });
  return solveGrid(grid, start)?.length;
}
