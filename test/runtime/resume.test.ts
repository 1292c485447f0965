import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunEvent } from '../../src/core/events.ts';
import { foldRun } from '../../src/core/run-state.ts';
import { type AgentDefinition, resumeRun, runAgent } from '../../src/runtime/agent-loop.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import { dyingStore } from '../support/dying-store.ts';
import { type Turn, TurnModel } from '../support/models.ts';

/** Effects of the tools, as the outside world would see them. */
interface World {
  safe: number;
  keyed: Set<string>;
  keyedCalls: number;
  unsafe: string[];
}

function toolsFor(world: World) {
  return [
    defineTool({
      name: 'safe',
      description: 'idempotent',
      input: z.object({}),
      idempotent: true,
      execute: () => ++world.safe,
    }),
    defineTool({
      name: 'keyed',
      description: 'dedupes by key',
      input: z.object({}),
      checksIdempotencyKey: true,
      execute: (_, { idempotencyKey }) => {
        world.keyedCalls++;
        world.keyed.add(idempotencyKey);
        return world.keyed.size;
      },
    }),
    defineTool({
      name: 'unsafe',
      description: 'neither',
      input: z.object({}),
      execute: (_, { idempotencyKey }) => {
        world.unsafe.push(idempotencyKey);
        return world.unsafe.length;
      },
    }),
  ];
}

const script: Turn[] = [
  {
    text: 'one',
    calls: [
      { name: 'safe', input: {} },
      { name: 'keyed', input: {} },
    ],
  },
  { calls: [{ name: 'unsafe', input: {} }] },
  {
    calls: [
      { name: 'keyed', input: {} },
      { name: 'safe', input: {} },
    ],
  },
  { text: 'done' },
];

function agent(world: World, turnsFrom = 0): AgentDefinition {
  // The model answers by turn number, so a re-issued request gets the same answer.
  const model = new TurnModel(script.slice(turnsFrom));
  return { name: 't', instructions: '', model, tools: toolsFor(world) };
}

/** Checks the log is whole: dense seqs, one result per call, one model response per turn. */
function expectWholeLog(events: RunEvent[]) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
  const results = new Map<string, number>();
  for (const e of events)
    if (e.type === 'tool.result') results.set(e.data.callId, (results.get(e.data.callId) ?? 0) + 1);
  for (const count of results.values()) expect(count).toBe(1);
  const calls = events
    .filter((e) => e.type === 'tool.call')
    .map((e) => (e.type === 'tool.call' ? e.data.callId : ''));
  expect(new Set(calls).size).toBe(calls.length);
  const responses = events
    .filter((e) => e.type === 'model.response')
    .map((e) => (e.type === 'model.response' ? e.data.turn : 0));
  expect(new Set(responses).size).toBe(responses.length);
}

describe('resume after a crash', () => {
  it('completes from every point a crash can leave the log in, without double effects', async () => {
    let needsAttention = 0;
    let crashes = 0;
    for (let appends = 1; ; appends++) {
      const store = new SqliteStore({ path: ':memory:' });
      const world: World = { safe: 0, keyed: new Set(), keyedCalls: 0, unsafe: [] };
      const dying = dyingStore(store, appends);
      const runId = `run_crash${appends}`;
      const crashed = await runAgent({ store: dying, agent: agent(world), task: 'go', runId }).then(
        () => false,
        () => true,
      );
      if (!crashed) break; // the run needs fewer appends than this: every point is covered
      crashes++;
      if ((await store.readEvents(runId)).length === 0) continue; // died before the run existed
      await new Promise((r) => setTimeout(r, 5)); // let the dead "process" settle

      const turnsDone = (await store.readEvents(runId)).filter(
        (e) => e.type === 'model.response',
      ).length;
      let result = await resumeRun({ store, runId, agent: agent(world, turnsDone) });
      if (result.state.status === 'needs_attention') {
        needsAttention++;
        const pending = [...result.state.pendingCalls.values()];
        expect(pending.map((c) => c.name)).toEqual(['unsafe']);
        expect(result.state.detail).toMatch(
          /unsafe ran; it is not idempotent .*--rerun-in-doubt .*--skip-in-doubt/,
        );
        const done = (await store.readEvents(runId)).filter(
          (e) => e.type === 'model.response',
        ).length;
        result = await resumeRun({ store, runId, agent: agent(world, done), inDoubt: 'skip' });
        const skipped = (await store.readEvents(runId)).find(
          (e) => e.type === 'tool.result' && e.data.errorKind === 'in_doubt',
        );
        expect(skipped).toBeDefined();
      }
      expect(result.state.status, `crash after ${appends} appends`).toBe('completed');
      const events = await store.readEvents(runId);
      expectWholeLog(events);
      expect(foldRun(runId, events)).toEqual(result.state);
      // effects: the keyed tool counted each call once; the unsafe one never ran twice
      expect(world.keyed.size).toBe(2);
      expect(world.unsafe.length).toBeLessThanOrEqual(1);
      expect(new Set(world.unsafe).size).toBe(world.unsafe.length);
    }
    expect(crashes).toBeGreaterThan(10);
    expect(needsAttention).toBeGreaterThan(0);
  });

  it('re-runs an in-doubt call when told to, with the same idempotency key', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const world: World = { safe: 0, keyed: new Set(), keyedCalls: 0, unsafe: [] };
    const runId = 'run_rerun';
    // find how many appends bring the run to the unsafe call, then die right after it ran
    let appends = 1;
    for (; ; appends++) {
      const s = new SqliteStore({ path: ':memory:' });
      const w: World = { safe: 0, keyed: new Set(), keyedCalls: 0, unsafe: [] };
      await runAgent({
        store: dyingStore(s, appends),
        agent: agent(w),
        task: 'go',
        runId,
      }).catch(() => undefined);
      const events = await s.readEvents(runId);
      const last = events.at(-1);
      if (last?.type === 'tool.call' && last.data.name === 'unsafe') break;
    }
    await runAgent({
      store: dyingStore(store, appends),
      agent: agent(world),
      task: 'go',
      runId,
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 5));
    expect(world.unsafe).toHaveLength(1);
    const paused = await resumeRun({ store, runId, agent: agent(world, 2) });
    expect(paused.state.status).toBe('needs_attention');
    expect((await store.getRun(runId))?.status).toBe('needs_attention');
    const result = await resumeRun({ store, runId, agent: agent(world, 2), inDoubt: 'rerun' });
    expect(result.state.status).toBe('completed');
    expect(world.unsafe).toHaveLength(2);
    expect(world.unsafe[0]).toBe(world.unsafe[1]); // same key both times
  });

  it('refuses to resume a completed run, and a run another live process holds', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const world: World = { safe: 0, keyed: new Set(), keyedCalls: 0, unsafe: [] };
    const done = await runAgent({ store, agent: agent(world), task: 'go' });
    await expect(resumeRun({ store, runId: done.runId, agent: agent(world) })).rejects.toThrow(
      /already completed/,
    );
    await store.append([{ ...(await store.readEvents(done.runId))[0]!, runId: 'run_held' }]);
    await store.claimLease(
      'run_held',
      `${(await import('node:os')).hostname()}:1`,
      null,
      new Date().toISOString(),
    );
    await expect(resumeRun({ store, runId: 'run_held', agent: agent(world) })).rejects.toThrow(
      /run run_held is being run by process .*:1; stop that process first/,
    );
  });
});

describe('a run queued for a worker and tagged while it waits', () => {
  it('starts as queued (no run.resumed): tags put on before are bookkeeping, not steps', async () => {
    const { RunSuspension } = await import('../../src/runtime/agent-loop.ts');
    const { tagRun } = await import('../../src/runtime/run-tagging.ts');
    const store = new SqliteStore({ path: ':memory:' });
    const agent: AgentDefinition = {
      name: 'queued',
      instructions: 'answer',
      model: new TurnModel([{ text: 'done' }]),
      tools: [],
    };
    const queued = new AbortController();
    queued.abort(new RunSuspension('queued for a worker', { quiet: true }));
    const { runId } = await runAgent({ store, agent, task: 'go', signal: queued.signal });
    expect((await store.readEvents(runId)).map((e) => e.type)).toEqual(['run.started']);
    await tagRun(store, runId, { add: ['waiting'], by: 'alice' });
    const result = await resumeRun({ store, agent, runId, queued: true });
    expect(result.state.status).toBe('completed');
    const types = (await store.readEvents(runId)).map((e) => e.type);
    expect(types.slice(0, 3)).toEqual(['run.started', 'run.tagged', 'model.request']);
    expect(types).not.toContain('run.resumed');
    expect(result.state.tags).toEqual(['waiting']);
    await store.close();
  });
});
