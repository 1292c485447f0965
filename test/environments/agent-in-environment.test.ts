import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import type { RunEvent } from '../../src/core/events.ts';
import type { StepRecord } from '../../src/environments/episode.ts';
import { episodeRecord } from '../../src/environments/episode-record.ts';
import { Gridworld } from '../../src/environments/gridworld.ts';
import { observationDigest } from '../../src/environments/observation-digest.ts';
import { resumeRun, runAgent } from '../../src/runtime/agent-loop.ts';
import { prepareAgent } from '../../src/runtime/prepare-agent.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { repoRoot } from '../support/cli.ts';
import { dyingStore } from '../support/dying-store.ts';
import { tempDir } from '../support/temp-dir.ts';

const spec = join(repoRoot, 'examples/gridworld/agent.yaml');

async function prepared(home: string, seed: number) {
  // No provider keys: the spec's scripted policy plays.
  return prepareAgent(
    spec,
    { environment: { seed } },
    { config: loadConfig({ AGENTD_HOME: home }), cwd: home },
  );
}

async function run(store: Store, home: string, seed: number) {
  const agent = await prepared(home, seed);
  try {
    return await runAgent({
      store,
      agent: agent.agent,
      task: agent.environment!.task(),
      specPath: spec,
      cwd: home,
    });
  } finally {
    await agent.toolset.close();
  }
}

const steps = (events: readonly RunEvent[]) =>
  events.flatMap((e) =>
    e.type === 'tool.result' && e.data.name === 'env_step' && !e.data.isError
      ? [e.data.output as unknown as StepRecord]
      : [],
  );

describe('an agent in a gridworld', () => {
  it('reaches the goal in the fewest steps; every step is an event of the run with its observation digest', async () => {
    const home = tempDir();
    const store = new SqliteStore({ path: ':memory:' });
    try {
      const { runId, state } = await run(store, home, 4);
      expect(state.status).toBe('completed');
      const events = await store.readEvents(runId);
      const started = events[0]!;
      expect(started.type === 'run.started' && started.data.tools.map((t) => t.name)).toEqual([
        'env_step',
        'env_observe',
      ]);
      expect(started.type === 'run.started' && started.data.task).toMatch(
        /^Reach the goal G\.\n\nYou act in a gridworld environment \(seed 4, at most 60 steps\)/,
      );
      // The same world, played directly with the logged actions, shows the logged observations.
      const world = new Gridworld({ size: 7, doors: 1, maxSteps: 60 });
      await world.reset(4);
      const logged = steps(events);
      expect(logged.length).toBe(world.optimalSteps());
      for (const [i, step] of logged.entries()) {
        const direct = await world.step(step.action);
        expect(step.step).toBe(i + 1);
        expect(step.observation_digest).toBe(observationDigest(direct.observation));
        expect(step.observation.text).toBe(direct.observation.text);
      }
      // The agent is never shown the optimum; evaluations compute it from the logged seed.
      expect(JSON.stringify(logged)).not.toMatch(/optimal/);
      expect(logged[0]!.episode).toMatchObject({
        environment: 'gridworld',
        seed: 4,
        settings: { size: 7, doors: 1, walls: 0.15, max_steps: 60 },
      });
      expect(logged.slice(1).every((s) => s.episode === undefined)).toBe(true);
      const episode = episodeRecord(events)!;
      expect(episode.optimalSteps).toBe(world.optimalSteps());
      expect(episode).toMatchObject({ terminated: true, truncated: false, seed: 4, invalid: [] });
      expect(episode.return).toBeCloseTo(1 - 0.01 * logged.length, 6);
      const finished = events.at(-1)!;
      expect(finished.type === 'run.finished' && finished.data.output).toMatch(
        /^\[scripted\] Done: reached the goal after \d+ steps/,
      );
    } finally {
      await store.close();
    }
  });

  it('killed at every point of an episode and resumed: replayed from the log to the same state, no step lost or doubled', async () => {
    const home = tempDir();
    const reference = new SqliteStore({ path: ':memory:' });
    const { runId: referenceId } = await run(reference, home, 2);
    const expected = steps(await reference.readEvents(referenceId));
    const appends = (await reference.readEvents(referenceId)).length;
    await reference.close();
    expect(expected.length).toBeGreaterThan(4);
    let inDoubtSteps = 0;
    // A death before each append of the run (the first is run.started: nothing to resume).
    for (let death = 2; death < appends; death += 1) {
      const store = new SqliteStore({ path: ':memory:' });
      try {
        await expect(run(dyingStore(store, death), home, 2)).rejects.toThrow('the process died');
        const before = await store.readEvents((await store.listRuns({ limit: 1 }))[0]!.id);
        const runId = before[0]!.runId;
        const last = before.at(-1)!;
        if (last.type === 'tool.call' && last.data.name === 'env_step') inDoubtSteps++;
        // A new process: a fresh environment, rebuilt from the log by replay.
        const agent = await prepared(home, 2);
        try {
          const { state } = await resumeRun({ store, runId, agent: agent.agent });
          expect(state.status, `death at append ${death}`).toBe('completed');
        } finally {
          await agent.toolset.close();
        }
        const after = steps(await store.readEvents(runId));
        expect(
          after.map((s) => [s.step, s.action, s.observation_digest]),
          `death at append ${death}`,
        ).toEqual(expected.map((s) => [s.step, s.action, s.observation_digest]));
      } finally {
        await store.close();
      }
    }
    // Some deaths fell between a step's call and its result: those steps ran again.
    expect(inDoubtSteps).toBeGreaterThan(0);
  }, 180_000);

  it('a log the environment does not replay to stops the resume with one line', async () => {
    const home = tempDir();
    const store = new SqliteStore({ path: ':memory:' });
    try {
      await expect(run(dyingStore(store, 12), home, 3)).rejects.toThrow('the process died');
      const runId = (await store.listRuns({ limit: 1 }))[0]!.id;
      // The spec's environment changed since: seed 5 is another world.
      const agent = await prepared(home, 5);
      try {
        await expect(resumeRun({ store, runId, agent: agent.agent })).rejects.toThrow(
          /^run run_\w+: tool env_step cannot restore its state from the log: replaying step 1 \(\{"action":"\w+"\}\) gave observation [0-9a-f]{12}, the log has [0-9a-f]{12}: the gridworld environment does not replay to the logged state/,
        );
      } finally {
        await agent.toolset.close();
      }
    } finally {
      await store.close();
    }
  });
});
