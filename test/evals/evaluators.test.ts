import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { buildEvaluators } from '../../src/evals/evaluators/index.ts';
import { Judge, type JudgeScript, ScriptedJudge } from '../../src/evals/judge.ts';
import { runRecord } from '../../src/evals/run-record.ts';
import { scoreRun } from '../../src/evals/score.ts';
import type { EvalCase, ExpectedCall, Score } from '../../src/evals/types.ts';
import { type Model, ModelCallError } from '../../src/models/model.ts';
import { tempDir } from '../support/temp-dir.ts';
import { type HandCall, handRun } from './events.ts';

const source = { file: 'suite.yaml', dir: process.cwd(), field: 'evaluators' };

function judgeOf(verdicts: JudgeScript['verdicts']): Judge {
  return new Judge(new ScriptedJudge('test-judge', { verdicts }));
}

function caseOf(fields: Partial<EvalCase> = {}): EvalCase {
  return { id: 'c1', input: 'Convert 10 miles to km.', assertions: [], tags: [], ...fields };
}

async function score(
  entries: unknown[],
  events: RunEvent[],
  options: { case?: EvalCase; judge?: Judge } = {},
): Promise<Score[]> {
  const evaluators = await buildEvaluators(entries, source);
  return scoreRun(evaluators, events, options);
}

async function one(
  entry: unknown,
  events: RunEvent[],
  options: { case?: EvalCase; judge?: Judge } = {},
): Promise<Score | undefined> {
  return (await score([entry], events, options))[0];
}

const mi: HandCall = {
  name: 'convert',
  input: { value: 10, from: 'mi', to: 'km' },
  output: '16.09344 km',
};
const f: HandCall = {
  name: 'convert',
  input: { value: 100, from: 'F', to: 'C' },
  output: '37.78 C',
};
const units: HandCall = { name: 'list_units', input: {}, output: 'length: km, mi' };

function callsRun(calls: HandCall[][], answer = 'It is 16.09 km.'): RunEvent[] {
  return handRun({
    turns: [...calls.map((c) => ({ text: 'Converting.', calls: c })), { text: answer }],
  });
}

const expectMi: ExpectedCall = { tool: 'convert', input: { from: 'mi', to: 'km' } };
const expectF: ExpectedCall = { tool: 'convert', input: { from: 'F' } };

describe('trajectory', () => {
  const traj = (mode: string, extra: Record<string, unknown> = {}) => ({
    trajectory: { mode, ...extra },
  });

  it('exact: the same calls in order score 1; reordered or extra calls fail', async () => {
    const expected = caseOf({ expectedTrajectory: [expectMi, expectF] });
    const same = await one(traj('exact'), callsRun([[mi, f]]), { case: expected });
    expect(same).toMatchObject({ score: 1, pass: true, level: 'tool', threshold: 1 });

    const reordered = await one(traj('exact'), callsRun([[f, mi]]), { case: expected });
    expect(reordered).toMatchObject({ score: 0, pass: false });
    expect(reordered?.explanation).toMatch(
      /exact: 0 of 2 positions agree; call 1: expected convert/,
    );

    const extra = await one(traj('exact'), callsRun([[mi, f], [units]]), { case: expected });
    expect(extra?.score).toBeCloseTo(2 / 3);
    expect(extra?.pass).toBe(false);
    expect(extra?.explanation).toContain('call 3: expected nothing, got list_units');
  });

  it('in order: extra calls are allowed, reordered ones are not', async () => {
    const expected = caseOf({ expectedTrajectory: [expectMi, expectF] });
    const extra = await one(traj('in_order'), callsRun([[units], [mi], [f]]), { case: expected });
    expect(extra).toMatchObject({ score: 1, pass: true });
    expect(extra?.explanation).toBe(
      'in order: 2 of 2 expected calls found; 1 extra call (list_units), allowed',
    );

    const reordered = await one(traj('in_order'), callsRun([[f], [mi]]), { case: expected });
    expect(reordered).toMatchObject({ score: 0.5, pass: false });
    expect(reordered?.explanation).toContain('(made, but out of order)');

    const strict = await one(
      traj('in_order', { allow_extra: false }),
      callsRun([[units], [mi], [f]]),
      {
        case: expected,
      },
    );
    expect(strict?.score).toBeCloseTo(2 / 3);
    expect(strict?.explanation).toContain('not allowed');
  });

  it('any order: reordered calls match, a missing one counts, overlapping expectations pair up', async () => {
    const expected = caseOf({ expectedTrajectory: [expectMi, expectF] });
    expect(await one(traj('any_order'), callsRun([[f, mi]]), { case: expected })).toMatchObject({
      score: 1,
      pass: true,
    });
    const missing = await one(traj('any_order'), callsRun([[f]]), { case: expected });
    expect(missing).toMatchObject({ score: 0.5, pass: false });
    expect(missing?.explanation).toContain('missing convert {"from":"mi","to":"km"}');
    // "any convert" could take the F call first; the pairing must still find both.
    const overlapping = caseOf({ expectedTrajectory: [{ tool: 'convert' }, expectF] });
    expect(await one(traj('any_order'), callsRun([[f, mi]]), { case: overlapping })).toMatchObject({
      score: 1,
    });
  });

  it('an empty trajectory: nothing expected and nothing done scores 1, either alone scores 0', async () => {
    const none = caseOf({ expectedTrajectory: [] });
    const noCalls = handRun({ turns: [{ text: 'It is 16 km.' }] });
    for (const mode of ['exact', 'in_order', 'any_order']) {
      expect((await one(traj(mode), noCalls, { case: none }))?.score).toBe(1);
    }
    expect((await one(traj('exact'), callsRun([[mi]]), { case: none }))?.score).toBe(0);
    expect(
      (await one(traj('any_order', { allow_extra: false }), callsRun([[mi]]), { case: none }))
        ?.score,
    ).toBe(0);
    const wanted = caseOf({ expectedTrajectory: [expectMi] });
    for (const mode of ['exact', 'in_order', 'any_order']) {
      const s = await one(traj(mode), noCalls, { case: wanted });
      expect(s, mode).toMatchObject({ score: 0, pass: false });
    }
  });

  it('matches arguments as a subset, numbers within rounding, and fs.search as fs__search', async () => {
    const run = callsRun([
      [{ name: 'fs__search', input: { pattern: 'TODO', path: '.', limit: 50 }, output: 'x' }],
      [{ name: 'convert', input: { value: 0.1 + 0.2, from: 'mi', to: 'km' }, output: 'y' }],
    ]);
    const c = caseOf({
      expectedTrajectory: [
        { tool: 'fs.search', input: { pattern: 'TODO' } },
        { tool: 'convert', input: { value: 0.3 } },
      ],
    });
    expect((await one(traj('exact'), run, { case: c }))?.score).toBe(1);
  });

  it('does not apply to a case without an expected trajectory', async () => {
    expect(await one('trajectory', callsRun([[mi]]), { case: caseOf() })).toBeUndefined();
    expect(await one('trajectory', callsRun([[mi]]))).toBeUndefined();
  });
});

describe('tool selection and parameters', () => {
  it('selection is the F1 of the tools called against the tools expected', async () => {
    const c = caseOf({ expectedTrajectory: [{ tool: 'convert' }, { tool: 'list_units' }] });
    const s = await one('tool_selection', callsRun([[mi, mi, { ...units, name: 'other' }]]), {
      case: c,
    });
    // precision 1/3, recall 1/2
    expect(s?.score).toBeCloseTo(0.4);
    expect(s?.explanation).toContain('not called (enough): list_units');
    expect(s?.explanation).toContain('called beyond what was expected: convert, other');
    expect((await one('tool_selection', callsRun([[units, f]]), { case: c }))?.score).toBe(1);
  });

  it('parameters: the share of expected arguments right, 0 for a call never made', async () => {
    const c = caseOf({
      expectedTrajectory: [
        { tool: 'convert', input: { value: 10, from: 'mi', to: 'km' } },
        { tool: 'convert', input: { value: 100, from: 'F', to: 'C' } },
      ],
    });
    const wrongUnit: HandCall = {
      name: 'convert',
      input: { value: 10, from: 'mi', to: 'm' },
      output: 'x',
    };
    const s = await one('tool_parameters', callsRun([[wrongUnit]]), { case: c });
    expect(s?.score).toBeCloseTo((2 / 3 + 0) / 2);
    expect(s?.explanation).toContain('to: expected "km", got "m"');
    expect(s?.explanation).toContain('not called');
    expect((await one('tool_parameters', callsRun([[f, mi]]), { case: c }))?.score).toBe(1);
    // expected calls without arguments: nothing to check
    const namesOnly = caseOf({ expectedTrajectory: [{ tool: 'convert' }] });
    expect(await one('tool_parameters', callsRun([[mi]]), { case: namesOnly })).toBeUndefined();
  });

  it('without an expected trajectory they ask the judge, and say so when there is none', async () => {
    const judge = judgeOf([
      {
        evaluator: 'tool_selection',
        reply: { score: 0.5, explanation: 'list_units was not needed' },
      },
      {
        evaluator: 'tool_parameters',
        match: '"from":"mi"',
        reply: { score: 1, explanation: 'right units' },
      },
    ]);
    const run = callsRun([[units], [mi]]);
    const [selection, parameters] = await score(['tool_selection', 'tool_parameters'], run, {
      judge,
    });
    expect(selection).toMatchObject({
      score: 0.5,
      pass: false,
      explanation: '[scripted] list_units was not needed',
      judge: { model: 'scripted/test-judge', scripted: true, prompt: 'tool_selection', calls: 1 },
    });
    expect(selection?.judge?.promptVersion).toMatch(/^tool_selection\/v1\+[0-9a-f]{8}$/);
    expect(parameters).toMatchObject({ score: 1, pass: true });
    const [noJudge] = await score(['tool_selection'], run);
    expect(noJudge).toMatchObject({ score: 0, pass: false });
    expect(noJudge?.error).toMatch(/^tool_selection needs a judge model .*add judge:/);
  });
});

describe('correctness', () => {
  const run = handRun({ turns: [{ text: '  The answer:  16.09344 KM!  ' }], scripted: true });

  it('exact, normalized and contains', async () => {
    const exact = caseOf({ expectedResponse: 'The answer:  16.09344 KM!' });
    expect((await one({ correctness: { mode: 'exact' } }, run, { case: exact }))?.score).toBe(1);
    const loose = caseOf({ expectedResponse: 'the answer 16.09344 km' });
    expect((await one({ correctness: { mode: 'exact' } }, run, { case: loose }))?.score).toBe(0);
    expect((await one('correctness', run, { case: loose }))?.score).toBe(1);
    const part = caseOf({ expectedResponse: '16.09344 km' });
    expect((await one('correctness', run, { case: part }))?.score).toBe(0);
    const contains = await one({ correctness: { mode: 'contains' } }, run, { case: part });
    expect(contains).toMatchObject({
      score: 1,
      explanation: 'the answer contains the expected text',
    });
    const wrong = await one({ correctness: { mode: 'contains' } }, run, {
      case: caseOf({ expectedResponse: '16.1 km' }),
    });
    expect(wrong?.explanation).toMatch(
      /does not contain the expected text: expected "16.1 km", got/,
    );
  });

  it("ignores the scripted replay's [scripted] mark, and scores a run without an answer 0", async () => {
    const scripted = handRun({ turns: [{ text: '[scripted] 16 km' }], scripted: true });
    const c = caseOf({ expectedResponse: '16 km' });
    expect((await one({ correctness: { mode: 'exact' } }, scripted, { case: c }))?.score).toBe(1);
    const failed = handRun({ turns: [{ text: 'Let me see.', calls: [mi] }], status: 'failed' });
    const s = await one('correctness', failed, { case: c });
    expect(s).toMatchObject({ score: 0, pass: false });
    expect(s?.explanation).toBe('the run gave no final answer (failed: model_error)');
    expect(s?.error).toBeUndefined();
  });

  it('judge mode, and no score for a case without an expected response', async () => {
    const judge = judgeOf([
      { evaluator: 'correctness', reply: '```json\n{"score": 0.8, "explanation": "close"}\n```' },
    ]);
    const s = await one({ correctness: { mode: 'judge', threshold: 0.75 } }, run, {
      case: caseOf({ expectedResponse: 'about 16 km' }),
      judge,
    });
    expect(s).toMatchObject({ score: 0.8, pass: true, threshold: 0.75 });
    expect(s?.judge?.promptVersion).toMatch(/^correctness\/v1\+/);
    expect(await one('correctness', run, { case: caseOf() })).toBeUndefined();
  });
});

describe('goal success', () => {
  const run = callsRun([[mi]], 'A marathon of 10 miles is 16.09 km.');

  it('checks what it can itself and scores the share met', async () => {
    const c = caseOf({
      assertions: [
        { contains: '16.09 km' },
        { regex: '\\d+\\.\\d+ km' },
        { tool_called: 'convert' },
        { tool_not_called: 'list_units' },
        { not_contains: 'miles' },
      ],
    });
    const s = await one('goal_success', run, { case: c });
    expect(s).toMatchObject({ score: 0.8, pass: false, level: 'session' });
    expect(s?.explanation).toBe(
      '4 of 5 assertions met; not met: not_contains: "miles" (the answer contains it)',
    );
    expect(s?.judge).toBeUndefined();
  });

  it('sends sentences to the judge in one call and records the prompt version', async () => {
    const judge = judgeOf([
      {
        evaluator: 'goal_success',
        reply: {
          assertions: [
            { index: 1, met: true, reason: 'it gives km' },
            { index: 2, met: false, reason: 'no formula' },
          ],
          explanation: 'half there',
        },
      },
    ]);
    const c = caseOf({
      assertions: [
        'The answer is in kilometres',
        { contains: '16.09' },
        'The answer shows the formula',
      ],
    });
    const s = await one('goal_success', run, { case: c, judge });
    expect(s?.score).toBeCloseTo(2 / 3);
    expect(s?.explanation).toContain(
      '2 of 3 assertions met; not met: The answer shows the formula ([scripted] no formula)',
    );
    expect(s?.judge).toMatchObject({ calls: 1, prompt: 'goal_success', scripted: true });
    expect(s?.judge?.promptVersion).toMatch(/^goal_success\/v1\+[0-9a-f]{8}$/);
  });

  it('judges the task itself when the case asserts nothing', async () => {
    const judge = judgeOf([
      {
        evaluator: 'goal_success',
        match: 'accomplished the task',
        reply: { assertions: [{ index: 1, met: true }] },
      },
    ]);
    expect(await one('goal_success', run, { judge })).toMatchObject({ score: 1, pass: true });
  });

  it('a malformed judge answer is an error score, not a crash', async () => {
    const c = caseOf({ assertions: ['It answers in km', 'It is brief'] });
    for (const [reply, error] of [
      [
        'Sure! Both are met.',
        /^the judge's answer is not the JSON asked for: "\[scripted\] Sure! Both are met\."$/,
      ],
      [
        '{"assertions": [{"index": 1, "met": "yes"}]}',
        /does not fit the format asked for: assertions\.0\.met: expected boolean, got "yes"/,
      ],
      ['{"assertions": [{"index": 1, "met": true}]}', /gives verdicts for assertions 1 of 1 to 2$/],
      ['{"assertions": [', /not the JSON asked for/],
    ] as const) {
      const s = await one('goal_success', run, { case: c, judge: judgeOf([{ reply }]) });
      expect(s, reply).toMatchObject({ score: 0, pass: false });
      expect(s?.error, reply).toMatch(error);
      expect(s?.judge?.calls).toBe(1);
    }
    // no verdict in the script fits: also an error, never a pass
    const unfit = await one('goal_success', run, {
      case: c,
      judge: judgeOf([{ evaluator: 'helpfulness', reply: { score: 1 } }]),
    });
    expect(unfit?.error).toMatch(
      /not the JSON asked for: "\[scripted\] no verdict in the judge script fits/,
    );
  });
});

describe('helpfulness and judge failures', () => {
  const run = callsRun([[mi]]);

  it('scores with the judge, against its threshold', async () => {
    const judge = judgeOf([
      { evaluator: 'helpfulness', reply: { score: 0.6, explanation: 'terse' } },
    ]);
    expect(await one('helpfulness', run, { judge })).toMatchObject({
      score: 0.6,
      pass: false,
      threshold: 0.7,
      explanation: '[scripted] terse',
    });
    expect(await one({ helpfulness: { threshold: 0.5 } }, run, { judge })).toMatchObject({
      pass: true,
    });
  });

  it('a score out of range, a failing judge model, and no answer', async () => {
    const outOfRange = await one('helpfulness', run, {
      judge: judgeOf([{ reply: { score: 1.5, explanation: 'great' } }]),
    });
    expect(outOfRange?.error).toMatch(/score: /);
    expect(outOfRange?.score).toBe(0);

    const broken: Model = {
      provider: 'anthropic',
      id: 'claude-haiku-4-5',
      entry: undefined,
      // biome-ignore lint/correctness/useYield: it fails before answering
      async *stream() {
        throw new ModelCallError('401 invalid x-api-key', { status: 401, retryable: false });
      },
    };
    const failed = await one('helpfulness', run, { judge: new Judge(broken) });
    expect(failed).toMatchObject({ score: 0, pass: false });
    expect(failed?.error).toBe(
      'the judge anthropic/claude-haiku-4-5 failed: 401 invalid x-api-key',
    );

    const none = handRun({ turns: [{ text: 'hm', calls: [mi] }], status: 'budget_exceeded' });
    expect(
      await one('helpfulness', none, { judge: judgeOf([{ reply: { score: 1 } }]) }),
    ).toMatchObject({
      score: 0,
      explanation: 'the run gave no final answer (budget_exceeded: max_turns)',
    });
  });

  it('a suite prompt file replaces the template and its version says custom', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'helpful.md'), 'Is this helpful to a hurried engineer?\n{{answer}}');
    const judge = judgeOf([{ match: 'hurried engineer', reply: { score: 1, explanation: 'yes' } }]);
    const [s] = await scoreRun(
      await buildEvaluators([{ helpfulness: { prompt: 'helpful.md' } }], { ...source, dir }),
      run,
      { judge },
    );
    expect(s).toMatchObject({ score: 1 });
    expect(s?.judge?.promptVersion).toMatch(/^helpfulness\/custom\+[0-9a-f]{8}$/);
  });
});

describe('turn level', () => {
  it('faithfulness is judged for each turn with words after a tool result', async () => {
    const run = handRun({
      turns: [
        { text: 'Let me convert.', calls: [mi] },
        { text: 'Also Fahrenheit.', calls: [f] },
        { text: 'It is 16.09 km and 37.78 C, and 99 K.' },
      ],
    });
    const judge = judgeOf([
      {
        evaluator: 'faithfulness',
        match: '99 K',
        reply: { score: 0.5, unsupported: ['99 K'], explanation: 'one made-up figure' },
      },
      { evaluator: 'faithfulness', reply: { score: 1, explanation: 'supported' } },
    ]);
    const s = await one('faithfulness', run, { judge });
    expect(s?.level).toBe('turn');
    expect(s?.score).toBeCloseTo(0.75);
    expect(s?.explanation).toBe(
      '2 turns judged; turn 3: 0.5 ([scripted] one made-up figure; unsupported: 99 K)',
    );
    expect(s?.judge?.calls).toBe(2);
    expect(s?.details).toEqual({
      turns: [
        { turn: 2, score: 1 },
        { turn: 3, score: 0.5 },
      ],
    });
    // nothing to be faithful to
    expect(
      await one('faithfulness', handRun({ turns: [{ text: 'Hi' }] }), { judge }),
    ).toBeUndefined();
  });

  it('one malformed turn verdict makes the whole score an error', async () => {
    const run = handRun({
      turns: [{ text: 'a', calls: [mi] }, { text: 'b', calls: [f] }, { text: 'c' }],
    });
    const judge = judgeOf([
      { evaluator: 'instruction_following', match: 'turn number="2"', reply: 'I think it is fine' },
      { evaluator: 'instruction_following', reply: { score: 1 } },
    ]);
    const s = await one('instruction_following', run, { judge });
    expect(s).toMatchObject({ score: 0, pass: false });
    expect(s?.error).toMatch(/^turn 2: the judge's answer is not the JSON asked for/);
    expect(s?.judge?.calls).toBe(3);
  });

  it('instruction following over many turns judges at most max_turns, first and last included', async () => {
    const turns = Array.from({ length: 9 }, (_, i) => ({ text: `step ${i + 1}`, calls: [mi] }));
    const run = handRun({ turns: [...turns, { text: 'done' }] });
    const judge = judgeOf([{ reply: { score: 1, explanation: 'ok' } }]);
    const s = await one({ instruction_following: { max_turns: 3 } }, run, { judge });
    expect(s?.explanation).toMatch(/^3 of 10 turns judged, all at 1/);
    expect(s?.details).toEqual({
      turns: [
        { turn: 1, score: 1 },
        { turn: 6, score: 1 },
        { turn: 10, score: 1 },
      ],
    });
  });
});

describe('operational', () => {
  it('turns, tokens, cost and wall time against their maximum', async () => {
    const run = handRun({
      turns: [{ text: 'a', calls: [mi] }, { text: 'b', calls: [f] }, { text: 'done' }],
      durationMs: 4000,
    });
    const scores = await score(
      [
        { turns: { max: 2 } },
        { tokens: { max: 1000 } },
        { cost: { max: 0.01 } },
        { wall_time: { max: '2s' } },
      ],
      run,
    );
    expect(scores.map((s) => [s.evaluator, s.score, s.pass, s.explanation])).toEqual([
      ['turns', 2 / 3, false, '3 turns (max 2)'],
      ['tokens', 1, true, '360 tokens (max 1000)'],
      ['cost', 1, true, '$0.0030 (max $0.01)'],
      ['wall_time', 0.5, false, '4.0 s (max 2 s)'],
    ]);
    for (const s of scores) expect(s.level).toBe('operational');
  });

  it('an unknown price is an error, not a pass', async () => {
    const run = handRun({ turns: [{ text: 'a', costUsd: null }] });
    const s = await one({ cost: { max: 1 } }, run);
    expect(s).toMatchObject({ score: 0, pass: false });
    expect(s?.error).toMatch(/has no known price/);
  });

  it('errors count tool errors, run errors and a run that did not complete', async () => {
    const clean = await one('errors', callsRun([[mi]]));
    expect(clean).toMatchObject({ score: 1, pass: true, explanation: '0 errors (max 0)' });
    const bad = handRun({
      turns: [
        {
          text: 'a',
          calls: [
            {
              name: 'convert',
              input: {},
              output: 'unknown unit "xx"',
              isError: true,
              errorKind: 'execution',
            },
          ],
        },
      ],
      status: 'failed',
      extra: [{ type: 'run.error', data: { code: 'model_error', message: '500 overloaded' } }],
    });
    const s = await one('errors', bad);
    expect(s).toMatchObject({ score: 0, pass: false });
    expect(s?.explanation).toBe(
      '3 errors (max 0): convert: unknown unit "xx"; model_error: 500 overloaded; the run ended failed (model_error)',
    );
    expect((await one({ errors: { max: 3 } }, bad))?.pass).toBe(true);
  });

  it('policy denials from denied results and policy decisions, each call once', async () => {
    const run = handRun({
      turns: [
        {
          text: 'a',
          calls: [
            {
              name: 'fs__write',
              input: { path: 'x' },
              output: 'denied: writes are not allowed',
              isError: true,
              errorKind: 'denied',
            },
          ],
        },
        { text: 'done' },
      ],
      extra: [
        {
          type: 'policy.decision',
          data: { callId: 'call_1', name: 'fs__write', effect: 'deny', reason: 'forbid writes' },
        },
        {
          type: 'policy.decision',
          data: { callId: 'call_9', name: 'shell__run', effect: 'deny', reason: 'no shell' },
        },
        {
          type: 'policy.decision',
          data: { callId: 'call_8', name: 'convert', effect: 'allow', reason: 'ok' },
        },
      ] as never,
    });
    const s = await one('policy_denials', run);
    expect(s).toMatchObject({ score: 0, pass: false });
    expect(s?.explanation).toBe(
      '2 policy denials (max 0): fs__write: denied: writes are not allowed; shell__run: no shell',
    );
    // a denial is not an error of the agent's
    expect((await one('errors', run))?.score).toBe(1);
  });
});

describe('custom evaluators', () => {
  it('functions over the run: numbers, booleans, outcomes, n/a, and bad returns as errors', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'checks.ts'),
      `import { defineEvaluator } from '${join(process.cwd(), 'src/evals/types.ts')}';
export const fewTurns = ({ run }) => run.turns.length <= 2;
export const share = ({ events }) => events.filter((e) => e.type === 'tool.call').length / 4;
export const cites = defineEvaluator({
  name: 'cites_result',
  level: 'turn',
  threshold: 1,
  evaluate: ({ run }) => {
    const last = run.calls.at(-1);
    if (!last) return undefined;
    const ok = String(run.answer).includes(String(last.output).split(' ')[0]);
    return { score: ok ? 1 : 0, explanation: ok ? 'cites the last result' : 'does not cite it' };
  },
});
export const tooBig = () => 2;
export const throws = () => { throw new Error('boom'); };
export default () => ({ score: 0.25, explanation: 'default export' });
`,
    );
    const evaluators = await buildEvaluators(
      [
        { custom: './checks.ts#fewTurns' },
        { custom: { module: './checks.ts', export: 'share', threshold: 0.3 } },
        { custom: './checks.ts#cites' },
        { custom: './checks.ts#tooBig' },
        { custom: './checks.ts#throws' },
        { custom: './checks.ts' },
      ],
      { ...source, dir },
    );
    const scores = await scoreRun(evaluators, callsRun([[mi]], 'It is 16.09344 km.'));
    expect(scores.map((s) => [s.evaluator, s.level, s.score, s.pass])).toEqual([
      ['fewTurns', 'custom', 1, true],
      ['share', 'custom', 0.25, false],
      ['cites_result', 'turn', 1, true],
      ['tooBig', 'custom', 0, false],
      ['throws', 'custom', 0, false],
      ['custom', 'custom', 0.25, false],
    ]);
    expect(scores[3]?.error).toMatch(/returned 2, not a score from 0 to 1/);
    expect(scores[4]?.error).toBe('throws failed: boom');
    // n/a: no calls
    const noCalls = await scoreRun([evaluators[2]!], handRun({ turns: [{ text: 'x' }] }));
    expect(noCalls).toEqual([]);
  });

  it('one-line errors for a missing module or export', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'checks.ts'), 'export const a = () => 1;\n');
    await expect(buildEvaluators([{ custom: './nope.ts' }], { ...source, dir })).rejects.toThrow(
      /^suite\.yaml: evaluators\.0\.custom: .*nope\.ts not found/,
    );
    await expect(
      buildEvaluators([{ custom: './checks.ts#b' }], { ...source, dir }),
    ).rejects.toThrow(
      /checks\.ts has no evaluator export "b" \(it exports a; write module#export\)$/,
    );
  });
});

describe('evaluator settings', () => {
  it('say in one line what is wrong', async () => {
    const cases: [unknown[], RegExp][] = [
      [
        ['helpfullness'],
        /^suite\.yaml: evaluators\.0: unknown evaluator "helpfullness" \(known: goal_success, /,
      ],
      [
        [{ trajectory: { mode: 'sideways' } }],
        /^suite\.yaml: evaluators\.0\.trajectory: mode: "sideways" is not allowed \(use one of: exact, in_order, any_order\)$/,
      ],
      [[{ turns: {} }], /^suite\.yaml: evaluators\.0\.turns: max: is required/],
      [[{ helpfulness: { threshold: 2 } }], /evaluators\.0\.helpfulness: threshold: /],
      [
        ['helpfulness', 'helpfulness'],
        /evaluators\.1: a second evaluator named "helpfulness" \(the first is evaluators\.0\); give one a name: option$/,
      ],
      [[{ a: 1, b: 2 }], /evaluators\.0: write one evaluator per entry/],
      [[{ wall_time: { max: 'soon' } }], /max: "soon" is not a duration/],
    ];
    for (const [entries, message] of cases) {
      await expect(buildEvaluators(entries, source), JSON.stringify(entries)).rejects.toThrow(
        message,
      );
    }
    // the same kind twice under different names
    const two = await buildEvaluators(
      [
        { trajectory: { mode: 'exact' } },
        { trajectory: { mode: 'any_order', name: 'trajectory-any' } },
      ],
      source,
    );
    expect(two.map((e) => e.name)).toEqual(['trajectory', 'trajectory-any']);
  });

  it('the run record keeps calls in order with their results, and the answer', () => {
    const record = runRecord(callsRun([[mi, f]]));
    expect(record.calls.map((c) => [c.name, c.turn, c.output])).toEqual([
      ['convert', 1, '16.09344 km'],
      ['convert', 1, '37.78 C'],
    ]);
    expect(record.answer).toBe('It is 16.09 km.');
    expect(record.turns).toHaveLength(2);
    expect(runRecord([]).calls).toEqual([]);
  });
});
