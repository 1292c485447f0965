import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Limits, RunEvent } from '../../src/core/events.ts';
import type { JsonValue } from '../../src/core/messages.ts';
import type { PendingCall } from '../../src/core/run-state.ts';
import { zeroUsage } from '../../src/core/usage.ts';
import { type AgentDefinition, defaultLimits } from '../../src/runtime/agent-loop.ts';
import { checkBudgets } from '../../src/runtime/budget-step.ts';
import { doubtfulCalls, needsAttention, safeToRepeat } from '../../src/runtime/in-doubt.ts';
import { openLoop } from '../../src/runtime/loop-context.ts';
import { RunLog } from '../../src/runtime/run-log.ts';
import { logToolCalls, runPendingCalls } from '../../src/runtime/tool-step.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import type { Tool } from '../../src/tools/tool.ts';
import { TurnModel } from '../support/models.ts';

/** What each tool did, as the world outside the run would see it. */
interface Effects {
  safe: number;
  unsafe: string[];
}

function toolsFor(effects: Effects): Tool[] {
  return [
    defineTool({
      name: 'safe',
      description: 'idempotent',
      input: z.object({}),
      idempotent: true,
      execute: () => ++effects.safe,
    }),
    defineTool({
      name: 'keyed',
      description: 'dedupes by key',
      input: z.object({}),
      checksIdempotencyKey: true,
      execute: () => 'kept',
    }),
    defineTool({
      name: 'unsafe',
      description: 'neither',
      input: z.object({ n: z.number() }),
      execute: (_, { idempotencyKey }) => {
        effects.unsafe.push(idempotencyKey);
        return effects.unsafe.length;
      },
    }),
  ];
}

/**
 * A run's log in the store as a crash would leave it: started, one model answer with `calls`,
 * and (unless `unlogged`) those calls logged without results.
 */
async function crashedRun(
  calls: { name: string; input: JsonValue }[],
  options: { limits?: Partial<Limits>; unlogged?: boolean; now?: () => number } = {},
) {
  const store = new SqliteStore({ path: ':memory:' });
  const effects: Effects = { safe: 0, unsafe: [] };
  const agent: AgentDefinition = {
    name: 'steps',
    instructions: '',
    model: new TurnModel([]),
    tools: toolsFor(effects),
  };
  const limits = { ...defaultLimits, ...options.limits };
  const log = new RunLog('run_steps', store);
  const toolCalls = calls.map((call, i) => ({ id: `c${i}`, ...call }));
  await log.append(
    {
      type: 'run.started',
      data: {
        agent: 'steps',
        model: 'scripted',
        task: 'work',
        instructions: '',
        tools: [],
        limits,
      },
    },
    { type: 'model.request', data: { turn: 1, model: 'scripted', messageCount: 1, toolCount: 3 } },
    {
      type: 'model.response',
      data: {
        turn: 1,
        text: '',
        toolCalls,
        usage: { ...zeroUsage, inputTokens: 900, outputTokens: 10 },
        costUsd: null,
        stopReason: 'tool_calls',
        durationMs: 1,
      },
    },
  );
  if (!options.unlogged)
    await log.append(
      ...toolCalls.map((call, i) => ({
        type: 'tool.call' as const,
        data: { callId: call.id, name: call.name, input: call.input, idempotencyKey: `k${i}` },
      })),
    );
  const drive = { store, agent, ...(options.now ? { now: options.now } : {}) };
  const loop = openLoop(log, drive);
  const events = async (): Promise<RunEvent[]> => store.readEvents('run_steps');
  return { store, loop, log, effects, events };
}

const typesOf = (events: RunEvent[]) => events.map((e) => e.type);

describe('in-doubt calls', () => {
  const tools = new Map(toolsFor({ safe: 0, unsafe: [] }).map((t) => [t.name, t]));
  const call = (name: string, input: PendingCall['input'], more: Partial<PendingCall> = {}) => ({
    callId: name,
    name,
    input,
    idempotencyKey: 'k',
    seq: 1,
    ...more,
  });

  it('says which calls are safe to run again: idempotent, keyed, or never ran', () => {
    expect(safeToRepeat(call('safe', {}), tools)).toBe(true);
    expect(safeToRepeat(call('keyed', {}), tools)).toBe(true);
    expect(safeToRepeat(call('unsafe', { n: 1 }), tools)).toBe(false);
    // never ran: an unknown tool, arguments that fail validation, a call that waited for approval
    expect(safeToRepeat(call('gone', {}), tools)).toBe(true);
    expect(safeToRepeat(call('unsafe', { n: 'x' }), tools)).toBe(true);
    expect(safeToRepeat(call('unsafe', '{not json'), tools)).toBe(true);
    expect(safeToRepeat(call('unsafe', { n: 1 }, { approval: 'requested' }), tools)).toBe(true);
    expect(safeToRepeat(call('unsafe', { n: 1 }, { approval: 'refused' }), tools)).toBe(true);
    expect(safeToRepeat(call('unsafe', { n: 1 }, { approval: 'approved' }), tools)).toBe(false);
  });

  it('only calls in doubt are doubtful, and the message speaks of one or many', () => {
    const pending = [call('unsafe', { n: 1 }), call('safe', {})];
    expect(doubtfulCalls(pending, new Set(), tools)).toEqual([]);
    const doubtful = doubtfulCalls(pending, new Set(['unsafe', 'safe']), tools);
    expect(doubtful.map((c) => c.name)).toEqual(['unsafe']);
    const one = needsAttention(doubtful);
    expect(one.message).toContain('it is not idempotent and does not check an idempotency key');
    expect(one.calls).toEqual([
      { callId: 'unsafe', name: 'unsafe', input: { n: 1 }, idempotencyKey: 'k' },
    ]);
    const two = needsAttention([...doubtful, call('other', {})]);
    expect(two.message).toContain('while unsafe, other ran; they are not idempotent');
    expect(two.message).toContain('--rerun-in-doubt to run them again');
  });
});

describe('the tool step', () => {
  it('an unsafe call in doubt, without a decision, waits for a person and runs nothing', async () => {
    const run = await crashedRun([
      { name: 'unsafe', input: { n: 1 } },
      { name: 'safe', input: {} },
    ]);
    const inDoubt = new Set(run.loop.state.pendingCalls.keys());
    const end = await runPendingCalls(run.loop, inDoubt, undefined);
    expect(end?.state.status).toBe('needs_attention');
    expect(run.effects).toEqual({ safe: 0, unsafe: [] });
    const events = await run.events();
    expect(typesOf(events).at(-1)).toBe('run.needs_attention');
    const last = events.at(-1);
    expect(last?.type === 'run.needs_attention' && last.data.calls.map((c) => c.name)).toEqual([
      'unsafe',
    ]);
  });

  it('skip: the unsafe call gets an in-doubt result, the safe one runs again', async () => {
    const run = await crashedRun([
      { name: 'unsafe', input: { n: 1 } },
      { name: 'safe', input: {} },
    ]);
    const inDoubt = new Set(run.loop.state.pendingCalls.keys());
    expect(await runPendingCalls(run.loop, inDoubt, 'skip')).toBeUndefined();
    expect(inDoubt.size).toBe(0);
    expect(run.effects).toEqual({ safe: 1, unsafe: [] });
    const results = (await run.events()).flatMap((e) => (e.type === 'tool.result' ? [e.data] : []));
    expect(results.map((r) => [r.name, r.errorKind])).toEqual(
      expect.arrayContaining([
        ['unsafe', 'in_doubt'],
        ['safe', undefined],
      ]),
    );
    expect(run.loop.state.pendingCalls.size).toBe(0);
  });

  it('rerun: the unsafe call runs again with the key it was logged with', async () => {
    const run = await crashedRun([{ name: 'unsafe', input: { n: 1 } }]);
    const inDoubt = new Set(run.loop.state.pendingCalls.keys());
    expect(await runPendingCalls(run.loop, inDoubt, 'rerun')).toBeUndefined();
    expect(run.effects.unsafe).toEqual(['k0']);
  });

  it('a call not in doubt (logged by this process) runs without asking', async () => {
    const run = await crashedRun([{ name: 'unsafe', input: { n: 2 } }]);
    expect(await runPendingCalls(run.loop, new Set(), undefined)).toBeUndefined();
    expect(run.effects.unsafe).toEqual(['k0']);
  });

  it('fails the run once a tool gets invalid arguments more times in a row than allowed', async () => {
    const run = await crashedRun([{ name: 'unsafe', input: { n: 'bad' } }], {
      limits: { maxToolRepairs: 0 },
    });
    const end = await runPendingCalls(run.loop, new Set(), undefined);
    expect(end?.state.status).toBe('failed');
    expect(end?.state.reason).toBe('tool_arguments_invalid');
    expect(run.effects.unsafe).toEqual([]);
  });

  it('logs every call of an answer in one append, keyed by its place in the log', async () => {
    const run = await crashedRun(
      [
        { name: 'safe', input: {} },
        { name: 'keyed', input: {} },
      ],
      { unlogged: true },
    );
    const last = run.loop.state.messages.at(-1);
    const calls = last?.role === 'assistant' ? last.toolCalls : [];
    expect(await logToolCalls(run.loop, calls)).toBeUndefined();
    const logged = (await run.events()).flatMap((e) => (e.type === 'tool.call' ? [e] : []));
    expect(logged.map((e) => e.data.idempotencyKey)).toEqual(
      logged.map((e) => `run_steps:${e.seq}`),
    );
    expect(run.loop.state.pendingCalls.size).toBe(2);
  });
});

describe('the budget step', () => {
  it('turns count only before work that leads to another turn', async () => {
    const run = await crashedRun([], { limits: { maxTurns: 1 } });
    // the one turn is used: going on to calls or a new model call would pass it
    expect(await checkBudgets(run.loop, [], false)).toBeUndefined();
    const end = await checkBudgets(run.loop, ['safe'], false);
    expect(end?.state.status).toBe('budget_exceeded');
    expect(end?.state.reason).toBe('max_turns');
    const finished = (await run.events()).at(-1);
    expect(finished?.type === 'run.finished' && finished.data.summary).toContain('1 turn');
  });

  it('warns once at 80% of a budget, and stops when it is used up', async () => {
    const run = await crashedRun([], { limits: { maxTokens: 1000 } });
    // 910 of 1,000 tokens: past 80%, not used up
    expect(await checkBudgets(run.loop, [], true)).toBeUndefined();
    expect(await checkBudgets(run.loop, [], true)).toBeUndefined();
    const warnings = (await run.events()).filter((e) => e.type === 'budget.warning');
    expect(warnings.map((e) => e.data)).toEqual([{ budget: 'tokens', used: 910, limit: 1000 }]);
    const over = await crashedRun([], { limits: { maxTokens: 900 } });
    const end = await checkBudgets(over.loop, [], true);
    expect(end?.state.reason).toBe('max_tokens');
  });

  it('time is the run clock: active time plus the time since the last event', async () => {
    let clock = Date.now();
    const run = await crashedRun([], { limits: { maxTimeMs: 60_000 }, now: () => clock });
    expect(await checkBudgets(run.loop, [], true)).toBeUndefined();
    clock += 61_000;
    const end = await checkBudgets(run.loop, [], true);
    expect(end?.state.reason).toBe('max_time');
  });
});
