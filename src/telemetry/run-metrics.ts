import type { Histogram, Meter, Attributes as MetricAttributes } from '@opentelemetry/api';
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
  readonly #runsStarted = new Tally();
  readonly #runsFinished = new Tally();
  readonly #toolCalls = new Tally();
  readonly #cost = new Tally();
  /** The same attribute set is one object, reused for every record of it. */
  readonly #attributes = new Map<string, MetricAttributes>();
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
    // Counters are summed here and observed at collection: a run adds to a Map entry.
    for (const [tally, name, description, unit] of [
      [this.#runsStarted, 'agentd.runs.started', 'Runs started', '{run}'],
      [this.#runsFinished, 'agentd.runs.finished', 'Runs ended, by status', '{run}'],
      [this.#toolCalls, 'agentd.tool.calls', 'Tool calls, by policy decision', '{call}'],
      [this.#cost, 'agentd.cost', 'Model spend at catalog prices, by model', 'USD'],
    ] as const) {
      meter
        .createObservableCounter(name, { description, unit })
        .addCallback((result) =>
          tally.observe((value, attributes) => result.observe(value, attributes)),
        );
    }
    this.#approvalWait = meter.createHistogram('agentd.approval.wait.duration', {
      description: 'Time tool calls waited for a person, by answer',
      unit: 's',
      advice: { explicitBucketBoundaries: [1, 10, 60, 300, 900, 3600, 14400, 86400] },
    });
  }

  runStarted(event: RunEvent & { type: 'run.started' }): void {
    this.#runsStarted.add(1, { [genAi.agentName]: event.data.agent });
  }

  #shared(attributes: Record<string, string>): MetricAttributes {
    const key = tallyKey(attributes);
    let known = this.#attributes.get(key);
    if (!known) {
      known = attributes;
      this.#attributes.set(key, known);
    }
    return known;
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
      this.#duration.record((span.endMs - span.startMs) / 1000, this.#shared(attributes));
      for (const [type, key] of [
        ['input', genAi.usageInputTokens],
        ['output', genAi.usageOutputTokens],
      ] as const) {
        const tokens = a[key];
        if (typeof tokens === 'number') {
          this.#tokens.record(tokens, this.#shared({ ...attributes, [genAi.tokenType]: type }));
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

/** Sums by attribute set, for counters observed at collection. */
class Tally {
  readonly #sums = new Map<string, { attributes: Record<string, string>; value: number }>();

  add(value: number, attributes: Record<string, string>): void {
    const key = tallyKey(attributes);
    const entry = this.#sums.get(key);
    if (entry) entry.value += value;
    else this.#sums.set(key, { attributes, value });
  }

  observe(report: (value: number, attributes: Record<string, string>) => void): void {
    for (const { value, attributes } of this.#sums.values()) report(value, attributes);
  }
}

function tallyKey(attributes: Record<string, string>): string {
  let key = '';
  for (const name in attributes) key += `${name}\u0000${attributes[name]}\u0001`;
  return key;
}

function pick(attributes: Attributes, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value = attributes[key];
    if (value !== undefined) out[key] = String(value);
  }
  return out;
}
