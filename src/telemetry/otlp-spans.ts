import { type HrTime, SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { defaultResource, type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { general } from './attribute-names.ts';
import type { TelemetrySettings } from './settings.ts';
import type { SpanRecord } from './span-record.ts';

/** agentd's version, as its spans' instrumentation scope and `service.version`. */
export const agentdVersion = '0.1.0';

const scope = { name: 'agentd', version: agentdVersion };

/** The resource every span and metric of this process carries: the service, then the user's. */
export function telemetryResource(settings: TelemetrySettings): Resource {
  return defaultResource().merge(
    resourceFromAttributes({
      ...settings.resourceAttributes,
      [general.serviceName]: settings.serviceName,
      [general.serviceVersion]: agentdVersion,
    }),
  );
}

const kinds = {
  internal: SpanKind.INTERNAL,
  client: SpanKind.CLIENT,
  server: SpanKind.SERVER,
} as const;

const statusCodes = {
  unset: SpanStatusCode.UNSET,
  ok: SpanStatusCode.OK,
  error: SpanStatusCode.ERROR,
} as const;

function hrTime(ms: number): HrTime {
  const seconds = Math.floor(ms / 1000);
  return [seconds, Math.round((ms - seconds * 1000) * 1e6)];
}

/** A span record as the SDK's exporters take it. */
export function readableSpan(record: SpanRecord, resource: Resource): ReadableSpan {
  const context = {
    traceId: record.traceId,
    spanId: record.spanId,
    traceFlags: TraceFlags.SAMPLED,
  };
  return {
    name: record.name,
    kind: kinds[record.kind],
    spanContext: () => context,
    ...(record.parentSpanId
      ? {
          parentSpanContext: {
            traceId: record.traceId,
            spanId: record.parentSpanId,
            traceFlags: TraceFlags.SAMPLED,
            ...(record.parentRemote ? { isRemote: true } : {}),
          },
        }
      : {}),
    startTime: hrTime(record.startMs),
    endTime: hrTime(record.endMs),
    duration: hrTime(record.endMs - record.startMs),
    status: {
      code: statusCodes[record.status.code],
      ...(record.status.message ? { message: record.status.message } : {}),
    },
    attributes: record.attributes,
    links: record.links.map((link) => ({
      context: { traceId: link.traceId, spanId: link.spanId, traceFlags: TraceFlags.SAMPLED },
      attributes: link.attributes,
    })),
    events: record.events.map((event) => ({
      name: event.name,
      time: hrTime(event.timeMs),
      attributes: event.attributes,
    })),
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

/** Spans as an OTLP/JSON `ExportTraceServiceRequest` (what `agentd runs trace -o` writes). */
export function otlpJson(records: readonly SpanRecord[], resource: Resource): string {
  const bytes = JsonTraceSerializer.serializeRequest(records.map((r) => readableSpan(r, resource)));
  return new TextDecoder().decode(bytes);
}

/** The SDK's OTLP exporter for the protocol (only that one is loaded). */
export async function spanExporter(settings: TelemetrySettings): Promise<SpanExporter> {
  const config = {
    url: settings.tracesEndpoint,
    timeoutMillis: settings.timeoutMs,
    concurrencyLimit: 4,
  };
  switch (settings.protocol) {
    case 'grpc': {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
      return new OTLPTraceExporter(config);
    }
    case 'http/json': {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
      return new OTLPTraceExporter({ ...config, headers: settings.headers });
    }
    default: {
      const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
      return new OTLPTraceExporter({ ...config, headers: settings.headers });
    }
  }
}
