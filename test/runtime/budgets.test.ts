import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Limits, RunEvent } from '../../src/core/events.ts';
import { type AgentDefinition, resumeRun, runAgent } from '../../src/runtime/agent-loop.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import { type Turn, TurnModel } from '../support/models.ts';

const tick = defineTool({
  name: 'tick',
  description: 'ticks',
  input: z.object({}),
  execute: () => 'tick',
});

/** A model that keeps calling tools for 100 turns. */
const endless: Turn[] = Array.from({ length: 100 }, () => ({
  text: 'working',
  calls: [{ name: 'tick', input: {} }],
  usage: { inputTokens: 1000, outputTokens: 100 },
}));

async function run(limits: Partial<Limits>, options: { now?: () => number } = {}) {
  const store = new SqliteStore({ path: ':memory:' });
  const model = new TurnModel(endless);
  const agent: AgentDefinition = { name: 'b', instructions: '', model, tools: [tick], limits };
  const result = await runAgent({ store, agent, task: 'work', ...options });
  const events = await store.readEvents(result.runId);
  return { store, model, result, events, state: result.state };
}

function warnings(events: RunEvent[]) {
  return events.flatMap((e) => (e.type === 'budget.warning' ? [e.data] : []));
}

describe('budgets', () => {
  it('turns: stops with budget_exceeded before running calls the model would never see', async () => {
    const { state, events } = await run({ maxTurns: 5 });
    expect(state.status).toBe('budget_exceeded');
    expect(state.reason).toBe('max_turns');
    expect(state.turns).toBe(5);
    expect(state.toolCalls).toBe(4);
    expect(warnings(events)).toEqual([{ budget: 'turns', used: 4, limit: 5 }]);
    const finished = events.at(-1);
    expect(finished?.type === 'run.finished' && finished.data.summary).toMatch(
      /^5 turns, 4 tool calls\.\nLast message from the agent: working\nLast tool result \(tick\): tick\nNot run: tick\.$/,
    );
  });

  it('tokens: stops once input + output tokens reach the limit, warning once at 80%', async () => {
    // 1,100 tokens a turn
    const { state, events } = await run({ maxTokens: 5_000 });
    expect(state.status).toBe('budget_exceeded');
    expect(state.reason).toBe('max_tokens');
    expect(state.usage.inputTokens + state.usage.outputTokens).toBe(5_500);
    expect(state.detail).toBe(
      'reached limits.max_tokens (5,500 of 5,000 tokens); raise it and resume the run (agentd runs resume) to let the agent go on',
    );
    expect(warnings(events)).toEqual([{ budget: 'tokens', used: 4_400, limit: 5_000 }]);
  });

  it('cost: stops once the priced usage reaches the limit', async () => {
    // claude-sonnet-4-5 at $3 in / $15 out: 1,000 in + 100 out = $0.0045 a turn
    const { state, events } = await run({ maxCostUsd: 0.02 });
    expect(state.status).toBe('budget_exceeded');
    expect(state.reason).toBe('max_cost');
    expect(state.turns).toBe(5);
    expect(state.costUsd).toBeCloseTo(0.0225, 10);
    expect(warnings(events).map((w) => w.budget)).toEqual(['cost']);
  });

  it('time: stops once the run has been active for the limit', async () => {
    let clock = Date.parse('2026-11-22T00:00:00Z');
    const now = () => {
      clock += 100; // every look at the clock is 100 ms later
      return clock;
    };
    const store = new SqliteStore({ path: ':memory:' });
    const agent: AgentDefinition = {
      name: 'b',
      instructions: '',
      model: new TurnModel(endless),
      tools: [tick],
      limits: { maxTimeMs: 60_000 },
    };
    // event times come from the real clock; drive the budget with a model that takes 10 s a turn
    const slowTick = defineTool({
      name: 'tick',
      description: 'ticks',
      input: z.object({}),
      execute: async () => {
        clock += 10_000;
        return 'tick';
      },
    });
    const result = await runAgent({
      store,
      agent: { ...agent, tools: [slowTick] },
      task: 'work',
      now,
    });
    expect(result.state.status).toBe('budget_exceeded');
    expect(result.state.reason).toBe('max_time');
    expect(result.state.detail).toMatch(/^reached limits\.max_time \(\d+\.\d s of 60\.0 s\)/);
    const events = await store.readEvents(result.runId);
    expect(warnings(events).map((w) => w.budget)).toEqual(['time']);
  });

  it('a stopped run resumes with a raised limit and goes on', async () => {
    const { store, result } = await run({ maxTurns: 3 });
    expect(result.state.status).toBe('budget_exceeded');
    const model = new TurnModel([{ text: 'finished now' }]);
    const resumed = await resumeRun({
      store,
      runId: result.runId,
      agent: { name: 'b', instructions: '', model, tools: [tick] },
      limits: { maxTurns: 10 },
    });
    expect(resumed.state.status).toBe('completed');
    expect(resumed.state.output).toBe('finished now');
    // the calls the budget held back ran first
    expect(resumed.state.toolCalls).toBe(3);
    expect((await store.getRun(result.runId))?.status).toBe('completed');
    expect((await store.listRuns()).filter((r) => r.id === result.runId)).toHaveLength(1);
  });
});
