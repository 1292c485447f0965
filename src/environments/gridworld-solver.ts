/**
 * The optimal solver of the gridworld: breadth-first search over (position, keys held). Keys
 * are never used up and a door opens for good once its key is held, so which doors are open
 * is fixed by the keys held; the state space is cells × 2^keys, and the first path BFS finds to
 * the goal is a shortest one. Evaluations take its length as the best a run could do.
 */

export const gridActions = ['up', 'down', 'left', 'right'] as const;
export type GridAction = (typeof gridActions)[number];

export const moves: Record<GridAction, readonly [number, number]> = {
  up: [0, -1],
  down: [0, 1],
  left: [-1, 0],
  right: [1, 0],
};

/** Key letters a..z, doors A..Z: the door opens with the key of its letter. */
export const isKey = (cell: string): boolean => cell >= 'a' && cell <= 'z';
export const isDoor = (cell: string): boolean => cell >= 'A' && cell <= 'Z' && cell !== 'G';

export interface GridPosition {
  x: number;
  y: number;
}

/**
 * The shortest list of actions from `start` (holding `held`) to the goal `G` of `grid` (rows of
 * cells: `#` wall, `.` floor, `G` goal, `a`-`z` keys, `A`-`Z` doors but G), or undefined when
 * the goal cannot be reached.
 */
export function solveGrid(
  grid: readonly string[],
  start: GridPosition,
  held: readonly string[] = [],
): GridAction[] | undefined {
  const height = grid.length;
  const width = grid[0]?.length ?? 0;
  const keyBits = new Map<string, number>();
  for (const row of grid) {
    for (const cell of row) if (isKey(cell) && !keyBits.has(cell)) keyBits.set(cell, keyBits.size);
  }
  for (const key of held) if (!keyBits.has(key)) keyBits.set(key, keyBits.size);
  const bit = (key: string) => 1 << keyBits.get(key)!;
  const startMask = held.reduce((m, k) => m | bit(k), 0);
  const cells = width * height;
  const index = (x: number, y: number, mask: number) => mask * cells + y * width + x;
  const size = cells << keyBits.size;
  const previous = new Int32Array(size).fill(-1);
  const via = new Int8Array(size).fill(-1);
  const first = index(start.x, start.y, startMask);
  previous[first] = first;
  const queue = new Int32Array(size);
  let head = 0;
  let tail = 0;
  queue[tail++] = first;
  while (head < tail) {
    const at = queue[head++]!;
    const mask = Math.floor(at / cells);
    const x = (at % cells) % width;
    const y = Math.floor((at % cells) / width);
    if (grid[y]![x] === 'G') return pathTo(at, first, previous, via);
    for (const [a, action] of gridActions.entries()) {
      const [dx, dy] = moves[action];
      const nx = x + dx;
      const ny = y + dy;
      if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
      const cell = grid[ny]![nx]!;
      if (cell === '#') continue;
      if (isDoor(cell) && !(mask & bit(cell.toLowerCase()))) continue;
      const nextMask = isKey(cell) ? mask | bit(cell) : mask;
      const next = index(nx, ny, nextMask);
      if (previous[next] !== -1) continue;
      previous[next] = at;
      via[next] = a;
      queue[tail++] = next;
    }
  }
  return undefined;
}

function pathTo(at: number, first: number, previous: Int32Array, via: Int8Array): GridAction[] {
  const path: GridAction[] = [];
  for (let node = at; node !== first; node = previous[node]!) path.push(gridActions[via[node]!]!);
  return path.reverse();
}
