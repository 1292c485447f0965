import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RunEvent } from '../../src/core/events.ts';
import { foldRun } from '../../src/core/run-state.ts';
import type { Model, ModelRequest } from '../../src/models/model.ts';
import { ScriptedModel } from '../../src/models/scripted-model.ts';
import { runAgent } from '../../src/runtime/agent-loop.ts';
import { calibrate, messagesToCompact, transcript } from '../../src/runtime/compaction.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { defineTool } from '../../src/tools/define-tool.ts';

const TURNS = 2_000;
const WINDOW = 4_000;

const work = defineTool({
  name: 'work',
  description: 'Does one step of the work and reports on it.',
  input: z.object({ step: z.string() }),
  execute: ({ step }) => `step ${step} done: checked 12 files, 3 warnings, nothing failed`,
});

/** The scripted model, recording every request it is sent. */
function recording(model: Model): Model & { requests: ModelRequest[] } {
  const requests: ModelRequest[] = [];
  return {
    provider: model.provider,
    id: model.id,
    entry: model.entry,
    requests,
    stream(request, signal) {
      requests.push({ ...request, messages: [...request.messages] });
      return model.stream(request, signal);
    },
  };
}

describe('runtime compaction', () => {
  it(`a ${TURNS.toLocaleString('en-US')}-turn run in a ${WINDOW.toLocaleString('en-US')}-token window completes, never overflows, and keeps its pinned facts`, async () => {
    const script = new ScriptedModel('long', {
      turns: [
        {
          text: 'Working through the steps.',
          tool_calls: [{ name: 'work', input: { step: 'next' } }],
          repeat: TURNS - 1,
        },
        { text: 'All steps are done.' },
      ],
    });
    const model = recording(script);
    const store = new SqliteStore({ path: ':memory:' });
    const task = 'Run every step of the migration. Pinned fact: the launch code is 7-4-1-9.';
    const result = await runAgent({
      store,
      agent: {
        name: 'long',
        instructions: 'Work step by step.',
        model,
        tools: [work],
        limits: { maxTurns: TURNS + 10 },
        compaction: { contextWindow: WINDOW, threshold: 0.8, keepRecentTurns: 3 },
      },
      task,
    });
    expect(result.state.status).toBe('completed');
    expect(result.state.turns).toBe(TURNS);

    const events = await store.readEvents(result.runId);
    const compactions = events.flatMap((e) => (e.type === 'context.compacted' ? [e] : []));
    expect(compactions.length).toBeGreaterThan(20);

    // the context never passes the window: not by agentd's count, not by the model's
    for (const e of events) {
      if (e.type === 'model.request') expect(e.data.contextTokens).toBeLessThanOrEqual(WINDOW);
      if (e.type === 'model.response') expect(e.data.usage.inputTokens).toBeLessThanOrEqual(WINDOW);
    }
    // the pinned task, with its fact, is in what the model is sent at the last turn
    const turnRequests = model.requests.filter((r) => r.purpose !== 'compaction');
    expect(turnRequests).toHaveLength(TURNS);
    const last = turnRequests.at(-1)!;
    expect(last.messages[0]).toMatchObject({ role: 'user' });
    expect(last.messages[0]?.role === 'user' && last.messages[0].text).toContain(
      'the launch code is 7-4-1-9',
    );
    expect(last.messages[0]?.role === 'user' && last.messages[0].text.startsWith(task)).toBe(true);

    // each compaction says exactly what left; nothing leaves twice; only turns leave
    const bySeq = new Map(events.map((e) => [e.seq, e]));
    const left = new Set<number>();
    for (const c of compactions) {
      expect(c.data.removedMessages).toBeGreaterThan(0);
      expect(c.data.removedEvents.length).toBeGreaterThan(0);
      expect(c.data.tokensAfter).toBeLessThan(c.data.tokensBefore);
      expect(c.data.summary).toMatch(/^\[scripted\] Summary/);
      for (const seq of c.data.removedEvents) {
        expect(left.has(seq)).toBe(false);
        left.add(seq);
        expect(['model.response', 'tool.result']).toContain(bySeq.get(seq)?.type);
      }
    }
    // the log keeps everything: a fold of it is the state the loop ended with
    expect(foldRun(result.runId, events)).toEqual(result.state);
    expect(events.filter((e) => e.type === 'tool.result')).toHaveLength(TURNS - 1);
  }, 120_000);

  it('keeps the latest result of each pinned tool verbatim through every compaction, and only that one', async () => {
    const plan = defineTool({
      name: 'update_plan',
      description: 'Records the plan.',
      input: z.object({ version: z.int() }),
      execute: ({ version }) => `PLAN v${version}: 1. migrate 2. test 3. commit`,
    });
    const turns = 300;
    const script = new ScriptedModel('pins', {
      turns: [
        { text: 'Planning.', tool_calls: [{ name: 'update_plan', input: { version: 1 } }] },
        { text: 'Working.', tool_calls: [{ name: 'work', input: { step: 'a' } }], repeat: 100 },
        { text: 'Replanning.', tool_calls: [{ name: 'update_plan', input: { version: 2 } }] },
        {
          text: 'Working.',
          tool_calls: [{ name: 'work', input: { step: 'b' } }],
          repeat: turns - 103,
        },
        { text: 'Done.' },
      ],
    });
    const model = recording(script);
    const store = new SqliteStore({ path: ':memory:' });
    const result = await runAgent({
      store,
      agent: {
        name: 'pins',
        instructions: 'Work step by step.',
        model,
        tools: [work, plan],
        limits: { maxTurns: turns + 10 },
        compaction: {
          contextWindow: WINDOW,
          threshold: 0.8,
          keepRecentTurns: 3,
          pin: ['update_plan'],
        },
      },
      task: 'Migrate.',
    });
    expect(result.state.status).toBe('completed');
    const events = await store.readEvents(result.runId);
    const compactions = events.flatMap((e) => (e.type === 'context.compacted' ? [e] : []));
    expect(compactions.length).toBeGreaterThanOrEqual(3);
    // while update_plan's result is still in the kept turns it is not pinned; once it left, it is
    expect(compactions[0]!.data.pinned).toEqual([
      { name: 'update_plan', text: 'PLAN v1: 1. migrate 2. test 3. commit' },
    ]);
    expect(compactions.at(-1)!.data.pinned).toEqual([
      { name: 'update_plan', text: 'PLAN v2: 1. migrate 2. test 3. commit' },
    ]);
    const first = (r: ModelRequest) => (r.messages[0]?.role === 'user' ? r.messages[0].text : '');
    const asked = model.requests.filter((r) => r.purpose !== 'compaction');
    // every request after the first compaction carries a plan; the last one the newest only
    const last = first(asked.at(-1)!);
    expect(last).toContain('[The latest result of update_plan, kept as it was]\nPLAN v2');
    expect(last).not.toContain('PLAN v1');
    expect(
      asked.every(
        (r, i) =>
          i < 3 ||
          first(r).includes('PLAN v') ||
          r.messages.some(
            (m) => m.role === 'tool' && m.results.some((x) => x.name === 'update_plan'),
          ),
      ),
    ).toBe(true);
    // the fold of the stored log is the loop's state, pins included
    expect(foldRun(result.runId, events)).toEqual(result.state);
    expect(result.state.pinnedResults).toEqual(compactions.at(-1)!.data.pinned);
  }, 120_000);

  it('calibrates the estimate against what the provider counted, smoothly and within bounds', () => {
    // the provider counts 1.5 tokens per estimated one: the ratio moves toward 1.5
    let ratio = 1;
    for (let i = 0; i < 20; i++) ratio = calibrate(ratio, 1_000, 1_500);
    expect(ratio).toBeCloseTo(1.5, 2);
    expect(calibrate(1, 1_000, 1_500)).toBeCloseTo(1.15, 10); // one step: 0.7 old + 0.3 new
    expect(calibrate(1, 100, 10_000)).toBe(1); // too little to learn from
    expect(calibrate(1, 1_000, 1_000_000)).toBeLessThanOrEqual(4);
    expect(calibrate(1, 1_000, 1)).toBeGreaterThanOrEqual(0.25);
  });

  it('keeps the last turns whole, starting at a model answer', () => {
    const messages = [
      { role: 'user' as const, text: 'task' },
      { role: 'assistant' as const, text: 'a', toolCalls: [{ id: '1', name: 't', input: {} }] },
      { role: 'tool' as const, results: [{ callId: '1', name: 't', output: 'r', isError: false }] },
      { role: 'assistant' as const, text: 'b', toolCalls: [{ id: '2', name: 't', input: {} }] },
      { role: 'tool' as const, results: [{ callId: '2', name: 't', output: 'r', isError: false }] },
      { role: 'assistant' as const, text: 'c', toolCalls: [{ id: '3', name: 't', input: {} }] },
      { role: 'tool' as const, results: [{ callId: '3', name: 't', output: 'r', isError: false }] },
    ];
    expect(messagesToCompact(messages, 2)).toBe(2); // the first turn (2 messages) goes
    expect(messagesToCompact(messages, 3)).toBe(0); // nothing older than three turns
    expect(transcript('task', 'task', messages.slice(1, 3))).toBe(
      '[task] task\n[assistant] a\n[assistant calls t] {}\n[t result] r',
    );
  });

  it('records the summarizing model and its cost, and counts it in the run', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const summarizer = new ScriptedModel('summarizer', { turns: [{ text: 'unused' }] });
    const result = await runAgent({
      store,
      agent: {
        name: 's',
        instructions: '',
        model: new ScriptedModel('main', {
          turns: [
            { tool_calls: [{ name: 'work', input: { step: 'x'.repeat(400) } }], repeat: 12 },
            { text: 'done' },
          ],
        }),
        tools: [work],
        compaction: { contextWindow: 1_500, keepRecentTurns: 2, model: summarizer },
      },
      task: 'go',
    });
    expect(result.state.status).toBe('completed');
    const events: RunEvent[] = await store.readEvents(result.runId);
    const compaction = events.find((e) => e.type === 'context.compacted');
    expect(compaction?.type === 'context.compacted' && compaction.data.model).toBe(
      'scripted/summarizer',
    );
    const responses = events.flatMap((e) =>
      e.type === 'model.response' ? [e.data.usage.inputTokens] : [],
    );
    const compactionInput = events.flatMap((e) =>
      e.type === 'context.compacted' ? [e.data.usage.inputTokens] : [],
    );
    expect(result.state.usage.inputTokens).toBe(
      [...responses, ...compactionInput].reduce((a, b) => a + b, 0),
    );
  });
});
