import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import type { RunEvent } from '../core/events.ts';
import { genAi, general, metricNames } from './attribute-names.ts';
import type { Attributes, SpanRecord } from './span-record.ts';

/** The buckets the GenAI conventions recommend for token counts and for durations in seconds. */
const tokenBuckets = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
const secondBuckets = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

/**
 * Metrics derived from the same spans that are exported: the GenAI client metrics per model
 * call, and agentd's own (runs, tool calls by decision, cost by model, approval waits).
 */
export class RunMetrics {
  readonly #tokens: Histogram;
  readonly #duration: Histogram;
  readonly #runsStarted: Counter;
  readonly #runsFinished: Counter;
  readonly #toolCalls: Counter;
  readonly #cost: Counter;
  readonly #approvalWait: Histogram;

  constructor(meter: Meter) {
    this.#tokens = meter.createHistogram(metricNames.tokenUsage, {
      description: 'Tokens used per model call, by token type',
      unit: '{token}',
      advice: { explicitBucketBoundaries: tokenBuckets },
    });
    this.#duration = meter.createHistogram(metricNames.operationDuration, {
      description: 'Duration of model calls',
      unit: 's',
      advice: { explicitBucketBoundaries: secondBuckets },
    });
    this.#runsStarted = meter.createCounter('agentd.runs.started', {
      description: 'Runs started',
      unit: '{run}',
    });
    this.#runsFinished = meter.createCounter('agentd.runs.finished', {
      description: 'Runs ended, by status',
      unit: '{run}',
    });
    this.#toolCalls = meter.createCounter('agentd.tool.calls', {
      description: 'Tool calls, by policy decision',
      unit: '{call}',
    });
    this.#cost = meter.createCounter('agentd.cost', {
      description: 'Model spend at catalog prices, by model',
      unit: 'USD',
    });
    this.#approvalWait = meter.createHistogram('agentd.approval.wait.duration', {
      description: 'Time tool calls waited for a person, by answer',
      unit: 's',
      advice: { explicitBucketBoundaries: [1, 10, 60, 300, 900, 3600, 14400, 86400] },
    });
  }

  runStarted(event: RunEvent & { type: 'run.started' }): void {
    this.#runsStarted.add(1, { [genAi.agentName]: event.data.agent });
  }

  spanEnded(span: SpanRecord): void {
    const a = span.attributes;
    const model = pick(a, [genAi.providerName, genAi.requestModel]);
    const cost = a['agentd.cost_usd'];
    if (typeof cost === 'number' && cost > 0) this.#cost.add(cost, model);
    const operation = a[genAi.operationName];
    if (operation === 'chat') {
      const attributes = {
        ...model,
        [genAi.operationName]: 'chat',
        ...pick(a, [genAi.responseModel, general.errorType]),
      };
      this.#duration.record((span.endMs - span.startMs) / 1000, attributes);
      for (const [type, key] of [
        ['input', genAi.usageInputTokens],
        ['output', genAi.usageOutputTokens],
      ] as const) {
        const tokens = a[key];
        if (typeof tokens === 'number') {
          this.#tokens.record(tokens, { ...attributes, [genAi.tokenType]: type });
        }
      }
    } else if (operation === 'execute_tool' && span.kind === 'internal') {
      // a run's tool calls (the gateway's server spans are the calls it served, decided there)
      this.#toolCalls.add(1, {
        [genAi.toolName]: String(a[genAi.toolName]),
        'agentd.policy.decision': String(a['agentd.policy.effect'] ?? 'none'),
        ...pick(a, [general.errorType]),
      });
    } else if (operation === 'invoke_agent' && typeof a['agentd.run.status'] === 'string') {
      this.#runsFinished.add(1, {
        [genAi.agentName]: String(a[genAi.agentName]),
        'agentd.run.status': a['agentd.run.status'],
      });
    } else if (span.name.startsWith('agentd.approval') && a['agentd.approval.answer']) {
      this.#approvalWait.record((span.endMs - span.startMs) / 1000, {
        'agentd.approval.answer': String(a['agentd.approval.answer']),
      });
    }
  }
}

function pick(attributes: Attributes, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = attributes[key];
    if (value !== undefined) out[key] = String(value);
  }
  return out;
}
