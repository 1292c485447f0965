/**
 * A finished span as agentd builds it from a run's events: plain data, independent of the
 * OpenTelemetry SDK, so building a trace costs nothing to load and the same record feeds the
 * live exporter, `agentd runs trace` and the tests.
 */
export type AttributeValue = string | number | boolean | string[] | number[];

export type Attributes = Record<string, AttributeValue>;

export interface SpanRecord {
  name: string;
  kind: 'internal' | 'client' | 'server';
  traceId: string;
  spanId: string;
  /** The parent's span id; absent for a root span. */
  parentSpanId?: string;
  /** True when the parent is another process's span (a caller's `traceparent`). */
  parentRemote?: boolean;
  /** Epoch milliseconds, from the events' own timestamps. */
  startMs: number;
  endMs: number;
  attributes: Attributes;
  links: { traceId: string; spanId: string; attributes: Attributes }[];
  events: { name: string; timeMs: number; attributes: Attributes }[];
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
}
