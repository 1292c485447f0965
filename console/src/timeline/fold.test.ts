import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../api/client';
import { costCurve, polyline } from './curve';
import { foldTimeline, itemIndexOf, toolState } from './fold';

const usage = {
  inputTokens: 100,
  outputTokens: 20,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};
let seq = 0;
const at = (s: number) => new Date(Date.UTC(2026, 10, 1, 0, 0, s)).toISOString();
function ev<T extends RunEvent['type']>(
  type: T,
  data: Extract<RunEvent, { type: T }>['data'],
  second = seq,
): RunEvent {
  return { runId: 'run_1', seq: seq++, at: at(second), type, data } as RunEvent;
}

function approvalRun(): RunEvent[] {
  seq = 0;
  return [
    ev('run.started', {
      agent: 'deployer',
      model: 'scripted/x',
      task: 'ship',
      instructions: '',
      tools: [],
      limits: { maxTurns: 5, maxToolRepairs: 3 },
    }),
    ev('model.request', {
      turn: 1,
      model: 'scripted/x',
      messageCount: 1,
      toolCount: 1,
      effort: 'high',
    }),
    ev('model.retry', { turn: 1, attempt: 1, delayMs: 500, status: 529, error: 'overloaded' }),
    ev('model.response', {
      turn: 1,
      text: 'deploying',
      toolCalls: [{ id: 'c1', name: 'deploy', input: { target: 'prod' } }],
      usage,
      costUsd: 0.01,
      stopReason: 'tool_calls',
      durationMs: 800,
    }),
    ev('tool.call', {
      callId: 'c1',
      name: 'deploy',
      input: { target: 'prod' },
      idempotencyKey: 'run_1:4',
    }),
    ev('policy.decision', {
      callId: 'c1',
      name: 'deploy',
      action: 'deploy',
      principal: 'Agent::"deployer"',
      resource: 'Server::"x"',
      decision: 'needs_approval',
      effect: 'needs_approval',
      mode: 'enforce',
      policies: ['deploys-need-a-person'],
      reason: 'needs a person',
      inputDigest: 'd',
      latencyUs: 40,
      auditSeq: 1,
    }),
    ev('approval.requested', {
      approvalId: 'apr_1',
      callId: 'c1',
      name: 'deploy',
      action: 'deploy',
      resource: 'Server::"x"',
      input: { target: 'prod' },
      policies: ['deploys-need-a-person'],
      reason: 'needs a person',
      expiresAt: at(3600),
      auditSeq: 1,
    }),
  ];
}

describe('timeline folding', () => {
  it('gathers a model call with its retries and answer, and a tool call with its decision, approval and result', () => {
    const events = approvalRun();
    let items = foldTimeline(events);
    expect(items.map((i) => i.kind)).toEqual(['start', 'model', 'tool']);
    const model = items[1]!;
    expect(model).toMatchObject({
      kind: 'model',
      turn: 1,
      retries: [{ attempt: 1 }],
      response: { text: 'deploying' },
      seqs: [1, 2, 3],
    });
    const tool = items[2]!;
    expect(tool.kind === 'tool' && toolState(tool)).toBe('waiting');

    events.push(
      ev('approval.answered', {
        approvalId: 'apr_1',
        callId: 'c1',
        name: 'deploy',
        answer: 'approved',
        by: 'alice',
        othersWaiting: 0,
      }),
      ev('tool.result', {
        callId: 'c1',
        name: 'deploy',
        output: 'deployed prod',
        isError: false,
        durationMs: 12,
      }),
      ev('model.request', { turn: 2, model: 'scripted/x', messageCount: 3, toolCount: 1 }),
      ev('model.response', {
        turn: 2,
        text: 'done',
        toolCalls: [],
        usage,
        costUsd: 0.02,
        stopReason: 'end_turn',
        durationMs: 300,
      }),
      ev('run.finished', {
        status: 'completed',
        reason: 'final_answer',
        turns: 2,
        usage,
        costUsd: 0.03,
        durationMs: 2000,
      }),
    );
    items = foldTimeline(events);
    expect(items.map((i) => i.kind)).toEqual(['start', 'model', 'tool', 'model', 'finish']);
    const answered = items[2]!;
    expect(answered.kind === 'tool' && answered.approval?.answer?.by).toBe('alice');
    expect(answered.kind === 'tool' && toolState(answered)).toBe('done');
    // a deep link to the approval's answer opens the tool call's row
    expect(itemIndexOf(items, 7)).toBe(2);
    expect(itemIndexOf(items, 99)).toBe(-1);
  });

  it('a call decided again after a resume stays one row; a denied call says so', () => {
    const events = approvalRun();
    events.push(
      ev('run.resumed', { session: 2 }),
      ev('policy.decision', {
        callId: 'c1',
        name: 'deploy',
        action: 'deploy',
        principal: 'Agent::"deployer"',
        resource: 'Server::"x"',
        decision: 'deny',
        effect: 'deny',
        mode: 'enforce',
        policies: ['never'],
        reason: 'forbidden',
        inputDigest: 'd',
        latencyUs: 40,
        auditSeq: 2,
      }),
      ev('tool.result', {
        callId: 'c1',
        name: 'deploy',
        output: 'Denied by policy',
        isError: true,
        errorKind: 'denied',
        durationMs: 0,
      }),
    );
    const items = foldTimeline(events);
    expect(items.filter((i) => i.kind === 'tool')).toHaveLength(1);
    expect(items.map((i) => i.kind)).toEqual(['start', 'model', 'tool', 'resume']);
    const tool = items[2]!;
    expect(tool.kind === 'tool' && tool.decision?.policies).toEqual(['never']);
    expect(tool.kind === 'tool' && toolState(tool)).toBe('denied');
  });

  it('folds 10,000 events into rows, every event in exactly one row', () => {
    seq = 0;
    const events: RunEvent[] = [
      ev('run.started', {
        agent: 'a',
        model: 'm',
        task: 't',
        instructions: '',
        tools: [],
        limits: { maxTurns: 5000, maxToolRepairs: 3 },
      }),
    ];
    for (let turn = 1; events.length < 10_000; turn++) {
      events.push(
        ev('model.request', { turn, model: 'm', messageCount: turn, toolCount: 1 }),
        ev('model.response', {
          turn,
          text: '',
          toolCalls: [{ id: `c${turn}`, name: 'fs__read', input: {} }],
          usage,
          costUsd: 0.001,
          stopReason: 'tool_calls',
          durationMs: 5,
        }),
        ev('tool.call', { callId: `c${turn}`, name: 'fs__read', input: {}, idempotencyKey: 'k' }),
        ev('tool.result', {
          callId: `c${turn}`,
          name: 'fs__read',
          output: 'x',
          isError: false,
          durationMs: 1,
        }),
      );
    }
    const items = foldTimeline(events);
    const seqs = items.flatMap((i) => i.seqs).sort((a, b) => a - b);
    expect(seqs).toEqual(events.map((e) => e.seq));
    expect(items.length).toBe(1 + ((events.length - 1) / 4) * 2);
  });
});

describe('the cost and token curve', () => {
  it('adds up answers and compactions over time; unknown prices add nothing', () => {
    seq = 0;
    const events: RunEvent[] = [
      ev(
        'run.started',
        {
          agent: 'a',
          model: 'm',
          task: 't',
          instructions: '',
          tools: [],
          limits: { maxTurns: 5, maxToolRepairs: 3 },
        },
        0,
      ),
      ev(
        'model.response',
        {
          turn: 1,
          text: '',
          toolCalls: [],
          usage,
          costUsd: 0.5,
          stopReason: 'end_turn',
          durationMs: 1,
        },
        2,
      ),
      ev(
        'context.compacted',
        {
          mode: 'runtime',
          removedMessages: 4,
          removedEvents: [1],
          tokensBefore: 900,
          tokensAfter: 200,
          summary: 's',
          model: 'm',
          usage,
          costUsd: null,
          durationMs: 1,
        },
        3,
      ),
      ev(
        'model.response',
        {
          turn: 2,
          text: '',
          toolCalls: [],
          usage,
          costUsd: 0.25,
          stopReason: 'end_turn',
          durationMs: 1,
        },
        5,
      ),
    ];
    const points = costCurve(events);
    expect(points).toEqual([
      { t: 2000, seq: 1, costUsd: 0.5, tokens: 120 },
      { t: 3000, seq: 2, costUsd: 0.5, tokens: 240 },
      { t: 5000, seq: 3, costUsd: 0.75, tokens: 360 },
    ]);
    expect(
      polyline(
        points.map((p) => ({ t: p.t, v: p.costUsd })),
        100,
        10,
      ),
    ).toBe('0.0,10.0 40.0,3.3 60.0,3.3 100.0,0.0');
    expect(polyline([], 100, 10)).toBe('');
  });
});
