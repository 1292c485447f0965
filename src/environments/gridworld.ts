import { z } from 'zod';
import type { JsonValue } from '../core/messages.ts';
import type { JsonSchema } from '../models/model.ts';
import type { Environment, Observation, StepResult } from './environment.ts';
import {
  type GridAction,
  type GridPosition,
  gridActions,
  isDoor,
  isKey,
  moves,
  solveGrid,
} from './gridworld-solver.ts';
import { randomInt, seededRandom } from './seeded-random.ts';

export interface GridworldOptions {
  /** Width and height inside the outer walls (5..15). */
  size?: number;
  /** Locked doors, each with its key on the near side (0..3). */
  doors?: number;
  /** Share of the free cells that become walls (0..0.4). */
  walls?: number;
  /** Steps before the episode is cut off (truncated). */
  maxSteps?: number;
}

export const gridworldDefaults: Required<GridworldOptions> = {
  size: 7,
  doors: 1,
  walls: 0.15,
  maxSteps: 100,
};

export const gridworldOptionsSchema = z.strictObject({
  size: z.int().min(5).max(15).optional(),
  doors: z.int().min(0).max(3).optional(),
  walls: z.number().min(0).max(0.4).optional(),
  max_steps: z.int().positive().max(10_000).optional(),
});

/** Reward of every step, and of reaching the goal on top: a run's return is 1 - 0.01 × steps. */
export const stepReward = -0.01;
export const goalReward = 1;

const actionSchema = z.strictObject({
  action: z.enum(gridActions).describe('the direction to move one cell in'),
});

const toJsonSchema = (schema: z.ZodType): JsonSchema => {
  const json = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as JsonSchema;
  delete json.$schema;
  return json;
};

const observationSchema = z.strictObject({
  grid: z
    .array(z.string())
    .describe('rows, top first: # wall, . floor, G goal, a-c keys, A-C doors'),
  agent: z.tuple([z.int(), z.int()]).describe('x (column) and y (row) of the agent, 0-based'),
  keys: z.array(z.string()).describe('keys held'),
  step: z.int(),
  max_steps: z.int(),
});

/** A world of rows of cells, as generated from a seed (the agent's start apart). */
export interface GridLayout {
  grid: string[];
  start: GridPosition;
}

/**
 * A text gridworld: walls, locked doors and their keys, a goal. Moving into a key picks it up,
 * into a door opens it when its key is held (else the move is blocked), into the goal ends the
 * episode. Fully observed, deterministic, and solved optimally by `solveGrid`, so an evaluation
 * knows the best score of every seed.
 */
export class Gridworld implements Environment {
  readonly kind = 'gridworld';
  readonly actionSpace = toJsonSchema(actionSchema);
  readonly observationSpace = toJsonSchema(observationSchema);
  readonly deterministic = true;
  readonly #options: Required<GridworldOptions>;
  #grid: string[][] = [];
  #agent: GridPosition = { x: 0, y: 0 };
  #keys: string[] = [];
  #steps = 0;
  #over = true;
  #optimal: number | undefined;

  constructor(options: GridworldOptions = {}) {
    this.#options = { ...gridworldDefaults, ...options };
  }

  parseAction(input: unknown): { ok: true; action: JsonValue } | { ok: false; error: string } {
    const parsed = actionSchema.safeParse(input);
    if (parsed.success) return { ok: true, action: parsed.data };
    return {
      ok: false,
      error: `action must be {"action": one of ${gridActions.join(', ')}}, not ${JSON.stringify(input)}`,
    };
  }

  async reset(seed: number): Promise<Observation> {
    const layout = generateGrid(seed, this.#options);
    this.#grid = layout.grid.map((row) => [...row]);
    this.#agent = { ...layout.start };
    this.#keys = [];
    this.#steps = 0;
    this.#over = false;
    this.#optimal = solveGrid(layout.grid, layout.start)!.length;
    return this.#observe('A new episode: reach the goal G.');
  }

  async step(action: JsonValue): Promise<StepResult> {
    if (this.#over) throw new Error('the episode is over: reset the environment first');
    const checked = this.parseAction(action);
    if (!checked.ok) throw new Error(checked.error);
    const move = (checked.action as { action: GridAction }).action;
    const [dx, dy] = moves[move];
    const x = this.#agent.x + dx;
    const y = this.#agent.y + dy;
    const cell = this.#grid[y]?.[x] ?? '#';
    this.#steps++;
    const info: { [key: string]: JsonValue } = { moved: false };
    let reward = stepReward;
    let terminated = false;
    let said: string;
    if (cell === '#') {
      info.blocked = 'wall';
      said = `You bump into a wall moving ${move}.`;
    } else if (isDoor(cell) && !this.#keys.includes(cell.toLowerCase())) {
      info.blocked = `door ${cell}`;
      said = `Door ${cell} is locked; it opens with key ${cell.toLowerCase()}.`;
    } else {
      this.#agent = { x, y };
      info.moved = true;
      if (isKey(cell)) {
        this.#keys.push(cell);
        this.#grid[y]![x] = '.';
        info.picked = cell;
        said = `You move ${move} and pick up key ${cell}.`;
      } else if (isDoor(cell)) {
        this.#grid[y]![x] = '.';
        info.opened = cell;
        said = `You open door ${cell} with key ${cell.toLowerCase()} and move ${move}.`;
      } else if (cell === 'G') {
        reward += goalReward;
        terminated = true;
        info.success = true;
        said = `You move ${move} and reach the goal.`;
      } else {
        said = `You move ${move}.`;
      }
    }
    const truncated = !terminated && this.#steps >= this.#options.maxSteps;
    if (truncated) said += ` The step limit (${this.#options.maxSteps}) is reached.`;
    this.#over = terminated || truncated;
    return { observation: this.#observe(said), reward, terminated, truncated, info };
  }

  /** The fewest steps from the last reset to the goal. */
  optimalSteps(): number | undefined {
    return this.#optimal;
  }

  get settings(): { [key: string]: JsonValue } {
    const o = this.#options;
    return { size: o.size, doors: o.doors, walls: o.walls, max_steps: o.maxSteps };
  }

  #observe(said: string): Observation {
    const rows = this.#grid.map((row, y) =>
      row.map((cell, x) => (x === this.#agent.x && y === this.#agent.y ? '@' : cell)).join(''),
    );
    const keys = this.#keys.length ? this.#keys.join(', ') : 'none';
    return {
      text: `${said}\n${rows.join('\n')}\nYou (@) are at x=${this.#agent.x}, y=${this.#agent.y}; keys held: ${keys}; step ${this.#steps} of ${this.#options.maxSteps}.`,
      state: {
        grid: this.#grid.map((row) => row.join('')),
        agent: [this.#agent.x, this.#agent.y],
        keys: [...this.#keys],
        step: this.#steps,
        max_steps: this.#options.maxSteps,
      },
    };
  }
}

/**
 * The world of a seed: a border of walls; `doors` walls across the grid from top to bottom,
 * each with one locked door, and its key somewhere before it; the agent starts on the left,
 * the goal is on the right; then random walls, kept only while the goal stays reachable.
 * The same seed and options give the same world.
 */
export function generateGrid(seed: number, options: Required<GridworldOptions>): GridLayout {
  const random = seededRandom(seed);
  const n = options.size;
  const side = n + 2;
  const grid = Array.from({ length: side }, (_, y) =>
    Array.from({ length: side }, (_, x): string =>
      x === 0 || y === 0 || x === side - 1 || y === side - 1 ? '#' : '.',
    ),
  );
  // Dividing walls at distinct columns, at least two apart, between the start and the goal.
  const columns: number[] = [];
  const doors = Math.min(options.doors, Math.floor((n - 1) / 2));
  for (let i = 0; i < doors; i++) {
    const low = 2 + i * Math.floor((n - 1) / doors);
    const high = Math.min(n - 1, low + Math.floor((n - 1) / doors) - 2);
    columns.push(randomInt(random, low, Math.max(low, high)));
  }
  const doorNames = 'ABC';
  for (const [i, column] of columns.entries()) {
    for (let y = 1; y <= n; y++) grid[y]![column] = '#';
    grid[randomInt(random, 1, n)]![column] = doorNames[i]!;
  }
  const region = (i: number): [number, number] => [
    i === 0 ? 1 : columns[i - 1]! + 1,
    i === columns.length ? n : columns[i]! - 1,
  ];
  const freeIn = ([from, to]: [number, number]): GridPosition => {
    for (;;) {
      const p = { x: randomInt(random, from, to), y: randomInt(random, 1, n) };
      if (grid[p.y]![p.x] === '.') return p;
    }
  };
  const start = freeIn(region(0));
  const place = (p: GridPosition, cell: string) => {
    grid[p.y]![p.x] = cell;
  };
  let goal: GridPosition;
  do goal = freeIn(region(columns.length));
  while (goal.x === start.x && goal.y === start.y);
  place(goal, 'G');
  for (let i = 0; i < columns.length; i++) {
    let key: GridPosition;
    do key = freeIn(region(randomInt(random, 0, i)));
    while (key.x === start.x && key.y === start.y);
    place(key, doorNames[i]!.toLowerCase());
  }
  const rows = () => grid.map((row) => row.join(''));
  const wanted = Math.round(options.walls * n * n);
  for (let tries = 0, added = 0; added < wanted && tries < wanted * 4; tries++) {
    const p = { x: randomInt(random, 1, n), y: randomInt(random, 1, n) };
    if (grid[p.y]![p.x] !== '.' || (p.x === start.x && p.y === start.y)) continue;
    grid[p.y]![p.x] = '#';
    if (solveGrid(rows(), start)) added++;
    else grid[p.y]![p.x] = '.';
  }
  return { grid: rows(), start };
}
