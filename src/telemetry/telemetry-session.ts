import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import {
  MeterProvider,
  type MetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import type { Redactor } from '../core/redact.ts';
import type { Store } from '../store/store.ts';
import { LiveTrace } from './live-trace.ts';
import { agentdVersion, spanExporter, telemetryResource } from './otlp-spans.ts';
import { RunMetrics } from './run-metrics.ts';
import type { TelemetrySettings } from './settings.ts';
import { describe, SpanQueue } from './span-queue.ts';
import type { SpanRecord } from './span-record.ts';
import { unreachable } from './unreachable.ts';

/** The OpenTelemetry SDK at work in this process: loaded only when telemetry is on. */
export interface TelemetrySession {
  readonly settings: TelemetrySettings;
  readonly live: LiveTrace;
  /** Spans built elsewhere (the gateway's server spans). */
  export(spans: readonly SpanRecord[]): void;
  /** The metrics in Prometheus text format (when started with `prometheus`). */
  prometheus?(): Promise<string>;
  /** Sends what is queued (bounded by `flush_timeout`); one line if anything was lost. */
  shutdown(): Promise<string | undefined>;
}

export interface TelemetryStartOptions {
  store: Pick<Store, 'readEvents'>;
  redact: Redactor;
  /** Also serve the metrics as Prometheus text (`agentd serve`'s `/metrics`). */
  prometheus?: boolean;
}

export async function startTelemetry(
  settings: TelemetrySettings,
  options: TelemetryStartOptions,
): Promise<TelemetrySession> {
  const resource = telemetryResource(settings);
  const queue = settings.traces
    ? new SpanQueue({
        exporter: await spanExporter(settings),
        resource,
        endpoint: settings.tracesEndpoint,
        maxQueueSize: settings.maxQueueSize,
        maxExportBatchSize: settings.maxExportBatchSize,
        scheduleDelayMs: settings.scheduleDelayMs,
      })
    : undefined;
  const readers: MetricReader[] = [];
  const metricFailures = { count: 0, error: undefined as string | undefined };
  if (settings.metrics) {
    const { PeriodicExportingMetricReader } = await import('@opentelemetry/sdk-metrics');
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: countingFailures(await metricExporter(settings), metricFailures),
        exportIntervalMillis: settings.metricIntervalMs,
        exportTimeoutMillis: Math.min(settings.timeoutMs, settings.metricIntervalMs),
      }),
    );
  }
  let prometheus: PrometheusExporter | undefined;
  if (options.prometheus) {
    const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
    prometheus = new PrometheusExporter({ preventServerStart: true });
    readers.push(prometheus);
  }
  const meterProvider = readers.length ? new MeterProvider({ resource, readers }) : undefined;
  const metrics = meterProvider
    ? new RunMetrics(meterProvider.getMeter('agentd', agentdVersion))
    : undefined;
  const exportSpans = (spans: readonly SpanRecord[]) => {
    queue?.push(spans);
    if (metrics) for (const span of spans) metrics.spanEnded(span);
  };
  const live = new LiveTrace(
    options.store,
    {
      captureContent: settings.captureContent,
      redact: options.redact,
      legacyNames: !settings.latestOnly,
    },
    {
      spans: exportSpans,
      runStarted: (event) => metrics?.runStarted(event),
    },
  );
  return {
    settings,
    live,
    export: exportSpans,
    ...(prometheus
      ? {
          prometheus: async () => {
            const { PrometheusSerializer } = await import('@opentelemetry/exporter-prometheus');
            const { resourceMetrics } = await prometheus!.collect();
            return new PrometheusSerializer().serialize(resourceMetrics);
          },
        }
      : {}),
    async shutdown() {
      await live.idle();
      const deadline = settings.flushTimeoutMs;
      const gone = unreachable(settings.tracesEndpoint);
      await Promise.all([
        queue?.flush(deadline, gone),
        meterProvider ? withDeadline(meterProvider.shutdown(), deadline, gone) : undefined,
      ]);
      const lines = [
        queue?.report(),
        metricFailures.count
          ? `${metricFailures.count} metric export${metricFailures.count === 1 ? '' : 's'} failed (${settings.metricsEndpoint}: ${metricFailures.error})`
          : undefined,
      ].filter(Boolean);
      return lines.length ? `telemetry: ${lines.join('; ')}` : undefined;
    },
  };
}

async function metricExporter(settings: TelemetrySettings): Promise<PushMetricExporter> {
  const config = { url: settings.metricsEndpoint, timeoutMillis: settings.timeoutMs };
  switch (settings.protocol) {
    case 'grpc': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-grpc');
      return new OTLPMetricExporter(config);
    }
    case 'http/json': {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
      return new OTLPMetricExporter({ ...config, headers: settings.headers });
    }
    default: {
      const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
      return new OTLPMetricExporter({ ...config, headers: settings.headers });
    }
  }
}

/** The exporter, counting the exports that fail (the SDK only logs them to its diag logger). */
function countingFailures(
  exporter: PushMetricExporter,
  failures: { count: number; error: string | undefined },
): PushMetricExporter {
  return {
    export: (metrics, done) =>
      exporter.export(metrics, (result) => {
        if (result.code !== 0) {
          failures.count++;
          failures.error = describe(result.error);
        }
        done(result);
      }),
    forceFlush: () => exporter.forceFlush(),
    shutdown: () => exporter.shutdown(),
    ...(exporter.selectAggregationTemporality
      ? { selectAggregationTemporality: exporter.selectAggregationTemporality.bind(exporter) }
      : {}),
    ...(exporter.selectAggregation
      ? { selectAggregation: exporter.selectAggregation.bind(exporter) }
      : {}),
  };
}

async function withDeadline(
  work: Promise<unknown>,
  ms: number,
  giveUp: Promise<unknown>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => undefined),
    giveUp,
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
