import type { Config, TelemetryConfig } from '../config/config.ts';
import { parseDuration } from '../core/duration.ts';
import { AgentdError } from '../core/errors.ts';
import { latestGenAiOnly } from './attribute-names.ts';

export const otlpProtocols = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof otlpProtocols)[number];

/** Where and how agentd exports traces and metrics, from config.yaml and the OTEL_* variables. */
export interface TelemetrySettings {
  protocol: OtlpProtocol;
  /** Full URLs (for gRPC, the collector's address). */
  tracesEndpoint: string;
  metricsEndpoint: string;
  /** Sent with every export; never logged (they often hold a backend's API key). */
  headers: Record<string, string>;
  timeoutMs: number;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  captureContent: boolean;
  traces: boolean;
  metrics: boolean;
  /** Spans held while the collector is slow or down; more are dropped (and counted). */
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduleDelayMs: number;
  metricIntervalMs: number;
  /** How long a command waits at exit for spans still queued. */
  flushTimeoutMs: number;
  /** Only the latest GenAI convention names (`OTEL_SEMCONV_STABILITY_OPT_IN`). */
  latestOnly: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Whether telemetry is on: `AGENTD_TELEMETRY` (on/off) first, then `OTEL_SDK_DISABLED`, then
 * `telemetry.enabled` in config.yaml. Off by default; reads nothing but the config and env.
 */
export function telemetryEnabled(config: Pick<Config, 'env' | 'telemetry'>): boolean {
  const flag = config.env.AGENTD_TELEMETRY?.trim().toLowerCase();
  if (flag) {
    if (['1', 'on', 'true', 'yes'].includes(flag)) return true;
    if (['0', 'off', 'false', 'no'].includes(flag)) return false;
    throw new AgentdError(
      'config_invalid',
      `AGENTD_TELEMETRY: "${config.env.AGENTD_TELEMETRY}" is not on or off`,
    );
  }
  if (config.env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  return config.telemetry?.enabled === true;
}

/** The settings in force; environment variables win over config.yaml, as the OTel spec says. */
export function telemetrySettings(config: Pick<Config, 'env' | 'telemetry'>): TelemetrySettings {
  const env = config.env;
  const file: TelemetryConfig = config.telemetry ?? {};
  const protocol = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ??
    env.OTEL_EXPORTER_OTLP_PROTOCOL ??
    file.protocol ??
    'http/protobuf') as OtlpProtocol;
  if (!otlpProtocols.includes(protocol)) {
    throw new AgentdError(
      'config_invalid',
      `OTEL_EXPORTER_OTLP_PROTOCOL: "${protocol}" is not an OTLP protocol (use ${otlpProtocols.join(', ')})`,
    );
  }
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? file.endpoint;
  const endpointOf = (signal: 'traces' | 'metrics', specific: string | undefined): string => {
    if (specific)
      return checkedUrl(`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`, specific);
    if (protocol === 'grpc')
      return checkedUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base ?? 'http://localhost:4317');
    const root = checkedUrl('OTEL_EXPORTER_OTLP_ENDPOINT', base ?? 'http://localhost:4318');
    return `${root.replace(/\/+$/, '')}/v1/${signal}`;
  };
  const captureFlag = env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT?.trim().toLowerCase();
  return {
    protocol,
    tracesEndpoint: endpointOf('traces', env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
    metricsEndpoint: endpointOf('metrics', env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT),
    headers: {
      ...(file.headers ?? {}),
      ...keyValues('OTEL_EXPORTER_OTLP_HEADERS', env.OTEL_EXPORTER_OTLP_HEADERS),
      ...keyValues('OTEL_EXPORTER_OTLP_TRACES_HEADERS', env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
    },
    timeoutMs: positive(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', 10_000),
    serviceName: env.OTEL_SERVICE_NAME || file.service_name || 'agentd',
    resourceAttributes: {
      ...(file.resource_attributes ?? {}),
      ...keyValues('OTEL_RESOURCE_ATTRIBUTES', env.OTEL_RESOURCE_ATTRIBUTES),
    },
    captureContent: captureFlag ? captureFlag === 'true' : file.capture_content === true,
    traces: env.OTEL_TRACES_EXPORTER?.trim() === 'none' ? false : file.traces !== false,
    metrics: env.OTEL_METRICS_EXPORTER?.trim() === 'none' ? false : file.metrics !== false,
    maxQueueSize: positive(env, 'OTEL_BSP_MAX_QUEUE_SIZE', file.max_queue ?? 2048),
    maxExportBatchSize: positive(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512),
    scheduleDelayMs: positive(env, 'OTEL_BSP_SCHEDULE_DELAY', 1000, true),
    metricIntervalMs: positive(env, 'OTEL_METRIC_EXPORT_INTERVAL', 60_000),
    flushTimeoutMs: flushTimeout(file.flush_timeout),
    latestOnly: latestGenAiOnly(env),
  };
}

function checkedUrl(name: string, value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // fall through
  }
  throw new AgentdError(
    'config_invalid',
    `${name}: "${value}" is not an http(s) URL (e.g. http://localhost:4318)`,
  );
}

/** `key=value,key2=value2`, values percent-decoded (the OTel spec's format). */
function keyValues(name: string, text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!text?.trim()) return out;
  for (const pair of text.split(',')) {
    if (!pair.trim()) continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      // Name the variable, never the value: headers carry API keys.
      throw new AgentdError(
        'config_invalid',
        `${name}: an entry is not key=value (write key1=value1,key2=value2)`,
      );
    }
    let value = pair.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      // kept as written
    }
    out[pair.slice(0, eq).trim()] = value;
  }
  return out;
}

function positive(env: Env, name: string, fallback: number, zeroOk = false): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) {
    throw new AgentdError(
      'config_invalid',
      `${name}: "${text}" is not a ${zeroOk ? 'whole number' : 'positive whole number'}`,
    );
  }
  return n;
}

function flushTimeout(text: string | undefined): number {
  if (text === undefined) return 2000;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 0) {
    throw new AgentdError(
      'config_invalid',
      `telemetry.flush_timeout: "${text}" is not a duration (e.g. 2s, 500ms)`,
    );
  }
  return ms;
}
