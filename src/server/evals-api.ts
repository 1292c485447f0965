import { Hono } from 'hono';
import { compareResults } from '../evals/compare.ts';
import { type EvalResult, resultFormat } from '../evals/result.ts';
import type { Store } from '../store/store.ts';
import type { AppEnv } from './app.ts';
import {
  jsonResponse,
  type OpenApiPart,
  operation,
  pathId,
  problemResponse,
  queryParam,
  ref,
} from './openapi-parts.ts';
import { problem } from './problem.ts';

/**
 * Evaluations over HTTP (scope `evals`): the suites' results `agentd eval run` kept, one with
 * every case (trials, scores, the judge's explanations, trajectories), two compared as
 * `agentd eval compare` compares them (intervals, regressions), and the scores online
 * evaluation kept with runs.
 */
export function evalsApi(store: Store): Hono<AppEnv> {
  const api = new Hono<AppEnv>();

  api.get('/results', async (c) => {
    const limit = Number(c.req.query('limit') ?? 100);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return problem(c, 400, 'invalid_request', 'limit: give 1 to 1000');
    }
    const suite = c.req.query('suite');
    return c.json({ results: await store.listEvalResults({ limit, ...(suite ? { suite } : {}) }) });
  });

  api.get('/results/:id', async (c) => {
    const found = await store.getEvalResult(c.req.param('id'));
    if (!found) return problem(c, 404, 'not_found', unknownResult(c.req.param('id')));
    return c.json(found);
  });

  api.get('/compare', async (c) => {
    const [a, b] = [c.req.query('a'), c.req.query('b')];
    if (!a || !b) {
      return problem(c, 400, 'invalid_request', 'a, b: give the ids of the two results to compare');
    }
    const [left, right] = await Promise.all([store.getEvalResult(a), store.getEvalResult(b)]);
    if (!left) return problem(c, 404, 'not_found', unknownResult(a));
    if (!right) return problem(c, 404, 'not_found', unknownResult(b));
    if (left.result.format !== resultFormat || right.result.format !== resultFormat) {
      return problem(
        c,
        400,
        'invalid_request',
        `both results must be in the ${resultFormat} format`,
      );
    }
    const comparison = compareResults(
      left.result as unknown as EvalResult,
      right.result as unknown as EvalResult,
    );
    return c.json({ ...comparison, results: [left.id, right.id] });
  });

  api.get('/scores', async (c) => {
    const runs = Number(c.req.query('limit') ?? 50);
    if (!Number.isInteger(runs) || runs < 1 || runs > 1000) {
      return problem(c, 400, 'invalid_request', 'limit: give 1 to 1000');
    }
    const run = c.req.query('run');
    const source = c.req.query('source');
    const scores = await store.listEvalScores({
      runs,
      ...(run ? { runId: run } : {}),
      ...(source ? { source } : {}),
    });
    return c.json({ scores });
  });
  return api;
}

function unknownResult(id: string): string {
  return `no eval result "${id}" (or the prefix names more than one): agentd eval run keeps each suite's result`;
}

const interval = {
  type: 'object',
  required: ['delta', 'low', 'high', 'n', 'enough'],
  properties: {
    delta: { type: 'number' },
    low: { type: 'number' },
    high: { type: 'number' },
    n: { type: 'integer' },
    enough: { type: 'boolean' },
  },
};
const verdict = { enum: ['better', 'worse', 'same', 'unknown'] };
const nullableNumber = { type: ['number', 'null'] };
const side = {
  type: 'object',
  required: ['name', 'startedAt', 'trials', 'cases'],
  properties: {
    name: { type: 'string' },
    startedAt: { type: 'string' },
    trials: { type: 'integer' },
    cases: { type: 'integer' },
  },
};

const score = {
  type: 'object',
  required: ['evaluator', 'kind', 'level', 'score', 'pass', 'threshold', 'explanation'],
  properties: {
    evaluator: { type: 'string' },
    kind: { type: 'string' },
    level: { type: 'string' },
    score: { type: 'number' },
    pass: { type: 'boolean' },
    threshold: { type: 'number' },
    explanation: { type: 'string', description: "the evaluator's (or the judge's) reasoning" },
    error: { type: 'string' },
    judge: { type: 'object', additionalProperties: true },
    details: { type: 'object', additionalProperties: true },
  },
};
const evaluatorSummary = {
  type: 'object',
  required: ['mean', 'passRate', 'n', 'errors'],
  properties: {
    mean: { type: 'number' },
    passRate: { type: 'number' },
    n: { type: 'integer' },
    errors: { type: 'integer' },
  },
};

/** A suite's result as result.json holds it (format agentd.eval.result/1). */
const evalResult = {
  type: 'object',
  required: [
    'format',
    'suite',
    'startedAt',
    'finishedAt',
    'trials',
    'evaluators',
    'summary',
    'cases',
  ],
  properties: {
    format: { const: 'agentd.eval.result/1' },
    suite: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string' },
        path: { type: 'string' },
        description: { type: 'string' },
      },
    },
    startedAt: { type: 'string' },
    finishedAt: { type: 'string' },
    durationMs: { type: 'number' },
    trials: { type: 'integer' },
    judge: {
      type: 'object',
      required: ['model', 'scripted'],
      properties: { model: { type: 'string' }, scripted: { type: 'boolean' } },
    },
    evaluators: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'kind', 'level', 'threshold'],
        properties: {
          name: { type: 'string' },
          kind: { type: 'string' },
          level: { type: 'string' },
          threshold: { type: 'number' },
          promptVersion: { type: 'string' },
        },
      },
    },
    summary: {
      type: 'object',
      required: [
        'score',
        'cases',
        'passed',
        'failed',
        'errors',
        'skipped',
        'byEvaluator',
        'usage',
        'costUsd',
        'judgeCostUsd',
      ],
      properties: {
        score: nullableNumber,
        cases: { type: 'integer' },
        passed: { type: 'integer' },
        failed: { type: 'integer' },
        errors: { type: 'integer' },
        skipped: { type: 'integer' },
        byEvaluator: { type: 'object', additionalProperties: evaluatorSummary },
        usage: ref('Usage'),
        costUsd: nullableNumber,
        judgeCostUsd: nullableNumber,
      },
    },
    cases: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'input', 'tags', 'agent', 'trials', 'evaluators', 'score', 'status'],
        properties: {
          id: { type: 'string' },
          input: { type: 'string' },
          tags: { type: 'array', items: { type: 'string' } },
          agent: { type: 'string' },
          expectedResponse: { type: 'string' },
          trials: {
            type: 'array',
            items: {
              type: 'object',
              required: [
                'trial',
                'turns',
                'usage',
                'costUsd',
                'durationMs',
                'trajectory',
                'scores',
                'score',
              ],
              properties: {
                trial: { type: 'integer' },
                runId: { type: 'string' },
                status: { type: 'string' },
                reason: { type: 'string' },
                answer: { type: 'string' },
                turns: { type: 'integer' },
                usage: ref('Usage'),
                costUsd: nullableNumber,
                durationMs: { type: 'number' },
                trajectory: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['turn', 'text', 'calls'],
                    properties: {
                      turn: { type: 'integer' },
                      text: { type: 'string' },
                      calls: {
                        type: 'array',
                        items: {
                          type: 'object',
                          required: ['name', 'input', 'isError'],
                          properties: {
                            name: { type: 'string' },
                            input: {},
                            output: { type: 'string' },
                            isError: { type: 'boolean' },
                          },
                        },
                      },
                    },
                  },
                },
                scores: { type: 'array', items: score },
                score: nullableNumber,
                error: { type: 'string' },
              },
            },
          },
          evaluators: { type: 'object', additionalProperties: evaluatorSummary },
          score: nullableNumber,
          status: { enum: ['passed', 'failed', 'error', 'skipped'] },
        },
      },
    },
  },
};

export const evalsOpenApi: OpenApiPart = {
  schemas: {
    EvalResult: evalResult,
    EvalResultSummary: {
      type: 'object',
      required: ['id', 'suite', 'startedAt', 'score', 'cases', 'passed', 'failed', 'errors'],
      properties: {
        id: { type: 'string' },
        suite: { type: 'string' },
        startedAt: { type: 'string', format: 'date-time' },
        score: nullableNumber,
        cases: { type: 'integer' },
        passed: { type: 'integer' },
        failed: { type: 'integer' },
        errors: { type: 'integer' },
      },
    },
    EvalResultRecord: {
      allOf: [
        ref('EvalResultSummary'),
        {
          type: 'object',
          required: ['result'],
          properties: {
            result: ref('EvalResult'),
          },
        },
      ],
    },
    CaseComparison: {
      type: 'object',
      required: ['id', 'a', 'b', 'delta', 'statusA', 'statusB', 'verdict', 'evaluators'],
      properties: {
        id: { type: 'string' },
        a: nullableNumber,
        b: nullableNumber,
        delta: { type: 'number' },
        statusA: { type: 'string' },
        statusB: { type: 'string' },
        trialsA: { type: 'integer' },
        trialsB: { type: 'integer' },
        verdict,
        interval,
        evaluators: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'a', 'b', 'delta'],
            properties: {
              name: { type: 'string' },
              a: { type: 'number' },
              b: { type: 'number' },
              delta: { type: 'number' },
            },
          },
        },
      },
    },
    EvalComparison: {
      type: 'object',
      required: [
        'a',
        'b',
        'results',
        'metrics',
        'regressions',
        'improvements',
        'onlyInA',
        'onlyInB',
        'method',
      ],
      properties: {
        a: side,
        b: side,
        results: { type: 'array', items: { type: 'string' }, description: 'the ids of A and B' },
        metrics: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'a', 'b', 'delta', 'verdict'],
            properties: {
              name: { type: 'string' },
              a: nullableNumber,
              b: nullableNumber,
              delta: nullableNumber,
              interval,
              verdict,
              promptChange: {
                type: 'object',
                properties: { a: { type: 'string' }, b: { type: 'string' } },
              },
            },
          },
        },
        regressions: { type: 'array', items: ref('CaseComparison') },
        improvements: { type: 'array', items: ref('CaseComparison') },
        onlyInA: { type: 'array', items: { type: 'string' } },
        onlyInB: { type: 'array', items: { type: 'string' } },
        method: { type: 'string' },
      },
    },
    EvalScore: {
      type: 'object',
      required: [
        'runId',
        'source',
        'evaluator',
        'kind',
        'level',
        'score',
        'pass',
        'threshold',
        'explanation',
        'scoredAt',
      ],
      properties: {
        runId: { type: 'string' },
        source: { type: 'string' },
        evaluator: { type: 'string' },
        kind: { type: 'string' },
        level: { type: 'string' },
        score: { type: 'number' },
        pass: { type: 'boolean' },
        threshold: { type: 'number' },
        explanation: { type: 'string' },
        error: { type: 'string' },
        judge: { type: 'object', additionalProperties: true },
        scoredAt: { type: 'string', format: 'date-time' },
        agent: { type: 'string' },
      },
    },
  },
  paths: {
    '/evals/results': {
      get: operation('evals', "Suites' results kept by agentd eval run, newest first", {
        parameters: [
          queryParam('suite', { type: 'string' }),
          queryParam('limit', { type: 'integer', minimum: 1, maximum: 1000 }),
        ],
        responses: {
          '200': jsonResponse('The results, without their cases', {
            type: 'object',
            required: ['results'],
            properties: { results: { type: 'array', items: ref('EvalResultSummary') } },
          }),
          '400': problemResponse,
        },
      }),
    },
    '/evals/results/{id}': {
      get: operation('evals', 'One result with every case, trial, score and explanation', {
        parameters: [pathId('a result id (evr_...) or a unique prefix')],
        responses: {
          '200': jsonResponse('The result', ref('EvalResultRecord')),
          '404': problemResponse,
        },
      }),
    },
    '/evals/compare': {
      get: operation(
        'evals',
        'What changed from result A to result B, beyond run-to-run noise or not',
        {
          parameters: [
            { ...queryParam('a', { type: 'string' }), required: true },
            { ...queryParam('b', { type: 'string' }), required: true },
          ],
          responses: {
            '200': jsonResponse(
              'The comparison (as agentd eval compare --json)',
              ref('EvalComparison'),
            ),
            '400': problemResponse,
            '404': problemResponse,
          },
        },
      ),
    },
    '/evals/scores': {
      get: operation(
        'evals',
        'Scores kept with runs (online evaluation), the most recently scored runs first',
        {
          parameters: [
            queryParam('run', { type: 'string' }),
            queryParam('source', { type: 'string' }),
            queryParam('limit', { type: 'integer', minimum: 1, maximum: 1000 }, 'runs, not scores'),
          ],
          responses: {
            '200': jsonResponse('The scores', {
              type: 'object',
              required: ['scores'],
              properties: { scores: { type: 'array', items: ref('EvalScore') } },
            }),
            '400': problemResponse,
          },
        },
      ),
    },
  },
};
