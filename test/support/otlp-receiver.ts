import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An OTLP/HTTP receiver for tests: it decodes what agentd sends with the OpenTelemetry
 * project's own protobuf definitions (the code generated from opentelemetry-proto that
 * @opentelemetry/otlp-transformer shipped, installed as `otlp-proto-definitions`), the way
 * a collector would, and keeps every span and metric it was sent.
 */
const require = createRequire(import.meta.url);
const root = require('otlp-proto-definitions/build/src/generated/root.js') as ProtoRoot;

interface ProtoType {
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}
interface ProtoRoot {
  opentelemetry: {
    proto: {
      collector: {
        trace: { v1: { ExportTraceServiceRequest: ProtoType } };
        metrics: { v1: { ExportMetricsServiceRequest: ProtoType } };
      };
    };
  };
}

export type AnyValue = string | number | boolean | AnyValue[] | undefined;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client (the proto's enum). */
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, AnyValue>;
  links: { traceId: string; spanId: string; attributes: Record<string, AnyValue> }[];
  events: { name: string; attributes: Record<string, AnyValue> }[];
  status: { code: number; message?: string };
  resource: Record<string, AnyValue>;
}

export interface ReceivedMetric {
  name: string;
  unit: string;
  points: { attributes: Record<string, AnyValue>; value: number }[];
}

interface KeyValue {
  key: string;
  value?: {
    stringValue?: string;
    boolValue?: boolean;
    intValue?: string | number;
    doubleValue?: number;
    arrayValue?: { values?: KeyValue['value'][] };
  };
}

function anyValue(value: KeyValue['value']): AnyValue {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValue);
  return undefined;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, AnyValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

/** OTLP/JSON writes ids in hex; protobuf decoded to objects gives them in base64. */
const hexOf = (id: string | undefined, encoding: 'hex' | 'base64') =>
  id ? (encoding === 'hex' ? id : Buffer.from(id, 'base64').toString('hex')) : '';
const ms = (nanos: string | number | undefined) => Number(BigInt(nanos ?? 0) / 1_000_000n);

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  metrics: ReceivedMetric[];
  /** Every request body, as sent. */
  bodies: Buffer[];
  /** Resolves once `test` holds for the spans received (checked on every request). */
  waitFor(test: (spans: ReceivedSpan[]) => boolean): Promise<void>;
  close(): Promise<void>;
}

type TraceRequest = { resourceSpans?: RawResourceSpans[] };
type MetricsRequest = { resourceMetrics?: RawResourceMetrics[] };
const protoOptions = { longs: String, bytes: String, defaults: false };
const collector = root.opentelemetry.proto.collector;

export function decodeTraces(bytes: Uint8Array): TraceRequest {
  const type = collector.trace.v1.ExportTraceServiceRequest;
  return type.toObject(type.decode(bytes), protoOptions) as TraceRequest;
}

export function decodeMetrics(bytes: Uint8Array): MetricsRequest {
  const type = collector.metrics.v1.ExportMetricsServiceRequest;
  return type.toObject(type.decode(bytes), protoOptions) as MetricsRequest;
}

/** Adds what an export request holds to `spans` and `metrics`; `changed` after each. */
export function collectors(spans: ReceivedSpan[], metrics: ReceivedMetric[], changed: () => void) {
  return {
    collectSpans(message: TraceRequest, encoding: 'hex' | 'base64') {
      const hex = (id: string | undefined) => hexOf(id, encoding);
      for (const rs of message.resourceSpans ?? []) {
        const resource = attributesOf(rs.resource?.attributes);
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            spans.push({
              traceId: hex(s.traceId),
              spanId: hex(s.spanId),
              parentSpanId: hex(s.parentSpanId),
              name: s.name,
              kind: s.kind ?? 0,
              startMs: ms(s.startTimeUnixNano),
              endMs: ms(s.endTimeUnixNano),
              attributes: attributesOf(s.attributes),
              links: (s.links ?? []).map((l) => ({
                traceId: hex(l.traceId),
                spanId: hex(l.spanId),
                attributes: attributesOf(l.attributes),
              })),
              events: (s.events ?? []).map((e) => ({
                name: e.name,
                attributes: attributesOf(e.attributes),
              })),
              status: {
                code: s.status?.code ?? 0,
                ...(s.status?.message ? { message: s.status.message } : {}),
              },
              resource,
            });
          }
        }
      }
      changed();
    },
    collectMetrics(message: MetricsRequest) {
      for (const rm of message.resourceMetrics ?? []) {
        for (const sm of rm.scopeMetrics ?? []) {
          for (const m of sm.metrics ?? []) {
            const points =
              m.sum?.dataPoints ?? m.histogram?.dataPoints ?? m.gauge?.dataPoints ?? [];
            metrics.push({
              name: m.name,
              unit: m.unit ?? '',
              points: points.map((p) => ({
                attributes: attributesOf(p.attributes),
                value: p.asDouble ?? Number(p.asInt ?? p.sum ?? 0),
              })),
            });
          }
        }
      }
      changed();
    },
  };
}

/** `hang`: accepts requests and never answers them. */
export async function otlpReceiver(mode: 'answer' | 'hang' = 'answer'): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const metrics: ReceivedMetric[] = [];
  const bodies: Buffer[] = [];
  const waiters: { test: (spans: ReceivedSpan[]) => boolean; resolve: () => void }[] = [];
  const sockets = new Set<Socket>();
  const { collectSpans, collectMetrics } = collectors(spans, metrics, () => {
    for (const waiter of waiters.splice(0)) {
      if (waiter.test(spans)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      bodies.push(body);
      if (mode === 'hang') return;
      const json = (request.headers['content-type'] ?? '').includes('json');
      if (request.url === '/v1/traces') {
        collectSpans(
          json ? (JSON.parse(body.toString('utf8')) as TraceRequest) : decodeTraces(body),
          json ? 'hex' : 'base64',
        );
      } else if (request.url === '/v1/metrics') {
        collectMetrics(
          json ? (JSON.parse(body.toString('utf8')) as MetricsRequest) : decodeMetrics(body),
        );
      }
      response
        .writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' })
        .end(json ? '{}' : undefined);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    metrics,
    bodies,
    waitFor: (test) =>
      test(spans) ? Promise.resolve() : new Promise((resolve) => waiters.push({ test, resolve })),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

interface RawResourceSpans {
  resource?: { attributes?: KeyValue[] };
  scopeSpans?: {
    spans?: {
      traceId?: string;
      spanId?: string;
      parentSpanId?: string;
      name: string;
      kind?: number;
      startTimeUnixNano?: string;
      endTimeUnixNano?: string;
      attributes?: KeyValue[];
      links?: { traceId?: string; spanId?: string; attributes?: KeyValue[] }[];
      events?: { name: string; attributes?: KeyValue[] }[];
      status?: { code?: number; message?: string };
    }[];
  }[];
}

interface RawPoint {
  attributes?: KeyValue[];
  asDouble?: number;
  asInt?: string;
  sum?: number;
}

interface RawResourceMetrics {
  scopeMetrics?: {
    metrics?: {
      name: string;
      unit?: string;
      sum?: { dataPoints?: RawPoint[] };
      histogram?: { dataPoints?: RawPoint[] };
      gauge?: { dataPoints?: RawPoint[] };
    }[];
  }[];
}

/** The same receiver over OTLP/gRPC: the collector's trace and metrics services. */
export async function otlpGrpcReceiver(): Promise<OtlpReceiver> {
  const grpc = await import('@grpc/grpc-js');
  const spans: ReceivedSpan[] = [];
  const metrics: ReceivedMetric[] = [];
  const bodies: Buffer[] = [];
  const waiters: { test: (spans: ReceivedSpan[]) => boolean; resolve: () => void }[] = [];
  const { collectSpans, collectMetrics } = collectors(spans, metrics, () => {
    for (const waiter of waiters.splice(0)) {
      if (waiter.test(spans)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  const unary = <T>(path: string, decode: (bytes: Uint8Array) => T) => ({
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: () => Buffer.alloc(0),
    requestDeserialize: (bytes: Buffer) => {
      bodies.push(bytes);
      return decode(bytes);
    },
    // An empty Export*ServiceResponse: no partial success to report.
    responseSerialize: () => Buffer.alloc(0),
    responseDeserialize: () => ({}),
  });
  const server = new grpc.Server();
  server.addService(
    { Export: unary('/opentelemetry.proto.collector.trace.v1.TraceService/Export', decodeTraces) },
    {
      Export: (call: { request: TraceRequest }, done: (error: null, response: object) => void) => {
        collectSpans(call.request, 'base64');
        done(null, {});
      },
    },
  );
  server.addService(
    {
      Export: unary(
        '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
        decodeMetrics,
      ),
    },
    {
      Export: (
        call: { request: MetricsRequest },
        done: (error: null, response: object) => void,
      ) => {
        collectMetrics(call.request);
        done(null, {});
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    metrics,
    bodies,
    waitFor: (test) =>
      test(spans) ? Promise.resolve() : new Promise((resolve) => waiters.push({ test, resolve })),
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
