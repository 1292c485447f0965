import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineTool, ScriptedModel, SqliteStore, z } from '../../src/index.ts';
import type { Model, ModelRequest, ModelStreamPart } from '../../src/models/model.ts';
import type { Script } from '../../src/models/scripted-model.ts';
import { runTeam, type TeamMemberSetup } from '../../src/teams/runner.ts';

export interface TeamsRow {
  teammates: number;
  /** Teammates running at once. */
  maxRunning: number;
  /** Median wall time of the team, from start to its result (ms). */
  wallMs: number;
  /** Wall time of one teammate over this one's. */
  speedup: number;
  /** What the speed-up would be with no overhead at all: the model's latency alone. */
  idealSpeedup: number;
}

export interface TeamsResults {
  tasks: number;
  /** Latency of every model call (lead's and teammates'), ms. */
  latencyMs: number;
  /** Model calls a teammate makes per task (a tool call, then the answer). */
  callsPerTask: number;
  rounds: number;
  rows: TeamsRow[];
}

/** A scripted model that takes `latencyMs` before each answer: a model of fixed latency. */
function fixedLatency(id: string, script: Script, latencyMs: number): Model {
  const inner = new ScriptedModel(id, script);
  return {
    provider: inner.provider,
    id: inner.id,
    entry: inner.entry,
    async *stream(request: ModelRequest, signal?: AbortSignal): AsyncIterable<ModelStreamPart> {
      await new Promise((resolve) => setTimeout(resolve, latencyMs));
      yield* inner.stream(request, signal);
    },
  };
}

const step = defineTool({
  name: 'step',
  description: 'Does one step of a task.',
  input: z.object({}),
  idempotent: true,
  execute: () => 'step done',
});

async function teamOnce(
  teammates: number,
  maxRunning: number,
  tasks: number,
  latencyMs: number,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'agentd-teams-'));
  const store = new SqliteStore({ path: join(dir, 'agentd.db'), durability: 'process' });
  const lead: TeamMemberSetup = {
    name: 'lead',
    role: 'lead',
    lead: true,
    agent: {
      name: 'lead',
      instructions: '',
      tools: [],
      limits: { maxTurns: 10 },
      model: fixedLatency(
        'lead',
        {
          turns: [
            {
              tool_calls: [
                {
                  name: 'team__task_create',
                  input: {
                    tasks: Array.from({ length: tasks }, (_, i) => ({ title: `part ${i + 1}` })),
                  },
                },
              ],
            },
            { tool_calls: [{ name: 'team__wait', input: { until: 'all_done' } }] },
            { text: 'All parts done.' },
          ],
        },
        latencyMs,
      ),
    },
  };
  const workers: TeamMemberSetup[] = Array.from({ length: teammates }, (_, i) => ({
    name: `worker-${i + 1}`,
    role: 'worker',
    lead: false,
    agent: {
      name: `worker-${i + 1}`,
      instructions: '',
      tools: [step],
      model: fixedLatency(
        'worker',
        { turns: [{ tool_calls: [{ name: 'step' }] }, { text: 'done: {{task}}' }] },
        latencyMs,
      ),
    },
  }));
  try {
    const started = performance.now();
    const result = await runTeam({
      store,
      team: { name: 'bench', lead, teammates: workers, maxRunning, budget: {} },
      task: `${tasks} independent parts`,
    });
    const wall = performance.now() - started;
    if (result.status !== 'completed' || result.tasks.some((t) => t.status !== 'done')) {
      throw new Error(`the team did not complete: ${result.status} ${result.detail ?? ''}`);
    }
    return wall;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Teams of N = 1, 2, 4, 8 teammates (and 8 limited to 4 at once) on 16 independent tasks,
 * every model call taking a fixed latency: wall time from the team's start to its result, and
 * the speed-up over one teammate. The lead's own calls (plan, wait, answer) are serial, so
 * the ideal speed-up is below N; it is given alongside.
 */
export async function runTeamsBench(
  options: {
    tasks?: number;
    latencyMs?: number;
    rounds?: number;
    log?: (line: string) => void;
  } = {},
): Promise<TeamsResults> {
  const tasks = options.tasks ?? 16;
  const latencyMs = options.latencyMs ?? 50;
  const rounds = options.rounds ?? 3;
  const callsPerTask = 2;
  await teamOnce(2, 2, 4, 1); // warm-up
  const configs = [
    [1, 1],
    [2, 2],
    [4, 4],
    [8, 8],
    [8, 4],
  ] as const;
  const leadMs = 3 * latencyMs;
  const ideal = (n: number) => leadMs + Math.ceil(tasks / n) * callsPerTask * latencyMs;
  const rows: TeamsRow[] = [];
  let base = 0;
  for (const [teammates, maxRunning] of configs) {
    const walls: number[] = [];
    for (let r = 0; r < rounds; r++)
      walls.push(await teamOnce(teammates, maxRunning, tasks, latencyMs));
    const wallMs = median(walls);
    if (teammates === 1) base = wallMs;
    const row = {
      teammates,
      maxRunning,
      wallMs: Math.round(wallMs),
      speedup: Math.round((base / wallMs) * 100) / 100,
      idealSpeedup: Math.round((ideal(1) / ideal(maxRunning)) * 100) / 100,
    };
    options.log?.(
      `  teams: ${teammates} teammates (${maxRunning} at once): ${row.wallMs} ms, ×${row.speedup} (ideal ×${row.idealSpeedup})`,
    );
    rows.push(row);
  }
  return { tasks, latencyMs, callsPerTask, rounds, rows };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

if (import.meta.main) {
  console.log(JSON.stringify(await runTeamsBench({ log: (l) => console.error(l) }), null, 2));
}
