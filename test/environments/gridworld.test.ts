import { describe, expect, it } from 'vitest';
import { Gridworld, generateGrid } from '../../src/environments/gridworld.ts';
import {
  type GridAction,
  gridActions,
  solveGrid,
} from '../../src/environments/gridworld-solver.ts';

const defaults = { size: 7, doors: 1, walls: 0.15, maxSteps: 100 };

/** Plays actions from a reset; the last step's result and every step's. */
async function play(world: Gridworld, seed: number, actions: readonly GridAction[]) {
  await world.reset(seed);
  const results = [];
  for (const action of actions) results.push(await world.step({ action }));
  return results;
}

/** Every state reachable in `depth` moves, searched without the solver: the true optimum. */
function bruteForceOptimum(grid: string[], start: { x: number; y: number }, limit: number) {
  let frontier = [{ ...start, keys: '' }];
  const seen = new Set([`${start.x},${start.y},`]);
  for (let depth = 1; depth <= limit; depth++) {
    const next: typeof frontier = [];
    for (const s of frontier) {
      for (const [dx, dy] of [
        [0, -1],
        [0, 1],
        [-1, 0],
        [1, 0],
      ] as const) {
        const x = s.x + dx;
        const y = s.y + dy;
        const cell = grid[y]![x]!;
        if (cell === '#') continue;
        if (/[A-F]/.test(cell) && !s.keys.includes(cell.toLowerCase())) continue;
        if (cell === 'G') return depth;
        const keys =
          /[a-z]/.test(cell) && !s.keys.includes(cell) ? [...s.keys, cell].sort().join('') : s.keys;
        const id = `${x},${y},${keys}`;
        if (seen.has(id)) continue;
        seen.add(id);
        next.push({ x, y, keys });
      }
    }
    frontier = next;
  }
  return undefined;
}

describe('gridworld dynamics', () => {
  const grid = ['#######', '#..#..#', '#a.A.G#', '#..#..#', '#######'];

  it('walls block, a locked door blocks until its key is held, the key opens it, the goal terminates', () => {
    const start = { x: 1, y: 1 };
    expect(solveGrid(grid, start)).toEqual(['down', 'right', 'right', 'right', 'right']);
    // without the key the door is a wall: from beside the door, going through is impossible
    expect(
      solveGrid(
        grid.map((r) => r.replace('a', '.')),
        start,
      ),
    ).toBeUndefined();
    // holding the key already, the path goes straight for the door
    expect(solveGrid(grid, { x: 2, y: 2 }, ['a'])).toEqual(['right', 'right', 'right']);
  });

  it('moves, bumps, picks up, opens and reaches the goal with Gymnasium step results', async () => {
    const world = new Gridworld(defaults);
    const first = await world.reset(11);
    const state = first.state as { grid: string[]; agent: [number, number]; keys: string[] };
    const plan = solveGrid(state.grid, { x: state.agent[0], y: state.agent[1] })!;
    expect(plan.length).toBe(world.optimalSteps());
    const results = await play(world, 11, plan);
    const last = results.at(-1)!;
    expect(last).toMatchObject({ terminated: true, truncated: false, info: { success: true } });
    expect(results.slice(0, -1).every((r) => !r.terminated && !r.truncated)).toBe(true);
    expect(results.some((r) => r.info.picked === 'a')).toBe(true);
    expect(results.some((r) => r.info.opened === 'A')).toBe(true);
    const total = results.reduce((sum, r) => sum + r.reward, 0);
    expect(total).toBeCloseTo(1 - 0.01 * plan.length, 10);
    await expect(world.step({ action: 'up' })).rejects.toThrow(/episode is over/);
  });

  it('a move into a wall or a locked door costs a step and leaves the agent where it was', async () => {
    const world = new Gridworld(defaults);
    const first = await world.reset(3);
    const state = first.state as { grid: string[]; agent: [number, number] };
    const [x, y] = state.agent;
    // The border is a wall: walk up until blocked.
    let result = await world.step({ action: 'up' });
    let steps = 1;
    while (result.info.moved) {
      result = await world.step({ action: 'up' });
      steps++;
    }
    expect(result.info.blocked).toBe('wall');
    expect(result.reward).toBe(-0.01);
    const after = result.observation.state as { agent: [number, number]; step: number };
    expect(after.agent[0]).toBe(x);
    expect(after.agent[1]).toBeLessThanOrEqual(y);
    expect(after.step).toBe(steps);
  });

  it('truncates at the step limit', async () => {
    const world = new Gridworld({ ...defaults, maxSteps: 3 });
    const results = await play(world, 5, ['left', 'right', 'left']);
    expect(results.map((r) => r.truncated)).toEqual([false, false, true]);
    await expect(world.step({ action: 'left' })).rejects.toThrow(/episode is over/);
  });

  it('refuses actions outside its action space with one clear line', async () => {
    const world = new Gridworld(defaults);
    await world.reset(1);
    for (const bad of [{ action: 'north' }, {}, 'up', { action: 'up', speed: 2 }, null]) {
      const checked = world.parseAction(bad);
      expect(checked.ok).toBe(false);
      if (!checked.ok)
        expect(checked.error).toMatch(
          /^action must be \{"action": one of up, down, left, right\}, not /,
        );
      await expect(world.step(bad as never)).rejects.toThrow(/^action must be/);
    }
    expect(world.actionSpace).toMatchObject({
      type: 'object',
      properties: { action: { enum: [...gridActions] } },
      required: ['action'],
    });
  });

  it('the same seed gives the same world, different seeds different ones', () => {
    const a = generateGrid(42, defaults);
    expect(generateGrid(42, defaults)).toEqual(a);
    const worlds = new Set(
      Array.from({ length: 20 }, (_, seed) => generateGrid(seed, defaults).grid.join('\n')),
    );
    expect(worlds.size).toBe(20);
  });

  it('every generated world is solvable, and the solver finds the true optimum', () => {
    for (const options of [
      defaults,
      { ...defaults, size: 9, doors: 2 },
      { ...defaults, size: 5, doors: 0, walls: 0.4 },
    ]) {
      for (let seed = 0; seed < 40; seed++) {
        const { grid, start } = generateGrid(seed, options);
        const plan = solveGrid(grid, start);
        expect(plan, `seed ${seed} ${JSON.stringify(options)}`).toBeDefined();
        expect(plan!.length).toBe(bruteForceOptimum(grid, start, 400));
        expect(
          grid
            .join('')
            .split('')
            .filter((c) => c === 'G'),
        ).toHaveLength(1);
        const doors = grid.join('').match(/[A-C]/g) ?? [];
        expect(doors.length).toBe(Math.min(options.doors, Math.floor((options.size - 1) / 2)));
      }
    }
  });
});
