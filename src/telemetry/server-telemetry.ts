import { randomBytes } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import pino from 'pino';
import { genAi, mcp } from './attribute-names.ts';
import { requestTrace } from './request-trace.ts';
import type { SpanRecord } from './span-record.ts';
import type { TelemetrySession } from './telemetry-session.ts';
import { formatTraceparent, parseTraceparent, type SpanContext } from './trace-ids.ts';

/** What `agentd serve` adds with telemetry on: request logs, gateway spans, `/metrics`. */
export interface ServerTelemetry {
  /** Logs every request as a JSON line (pino) with its trace id. */
  requests: MiddlewareHandler;
  /** A server span per `/mcp` call, continuing the caller's trace context. */
  mcpCalls: MiddlewareHandler;
  /** The metrics as Prometheus text. */
  metrics(): Promise<string>;
}

interface RequestTrace {
  traceId?: string;
  spanId?: string;
}

export function serverTelemetry(
  session: TelemetrySession,
  options: { destination?: pino.DestinationStream } = {},
): ServerTelemetry {
  const log = pino(
    { base: { service: session.settings.serviceName }, timestamp: pino.stdTimeFunctions.isoTime },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
  // What the request log says of each request's trace, set by the gateway's span if it has one.
  const traces = new WeakMap<Request, RequestTrace>();
  return {
    requests: async (c, next) => {
      const trace: RequestTrace = {};
      traces.set(c.req.raw, trace);
      const caller = parseTraceparent(c.req.header('traceparent'));
      if (caller) trace.traceId = caller.traceId;
      const started = performance.now();
      await next();
      log.info(
        {
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          duration_ms: Math.round((performance.now() - started) * 100) / 100,
          ...(trace.traceId ? { trace_id: trace.traceId } : {}),
          ...(trace.spanId ? { span_id: trace.spanId } : {}),
        },
        'request',
      );
    },
    mcpCalls: async (c, next) => {
      const message = c.req.method === 'POST' ? await jsonRpcOf(c) : undefined;
      if (!message) return next();
      const parent =
        parseTraceparent(metaTraceparent(message.params)) ??
        parseTraceparent(c.req.header('traceparent'));
      const context: SpanContext = {
        traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
        spanId: randomBytes(8).toString('hex'),
        sampled: parent?.sampled ?? true,
      };
      const trace = traces.get(c.req.raw);
      if (trace) Object.assign(trace, { traceId: context.traceId, spanId: context.spanId });
      const target = targetOf(message);
      const startMs = Date.now();
      let failed: unknown;
      try {
        await requestTrace.run({ traceparent: formatTraceparent(context) }, next);
      } catch (error) {
        failed = error;
      }
      if (context.sampled) {
        const status = c.res.status;
        const record: SpanRecord = {
          name: target ? `${message.method} ${target}` : message.method,
          kind: 'server',
          traceId: context.traceId,
          spanId: context.spanId,
          ...(parent ? { parentSpanId: parent.spanId, parentRemote: true } : {}),
          startMs,
          endMs: Date.now(),
          attributes: {
            [mcp.methodName]: message.method,
            ...(message.method === 'tools/call' && target
              ? { [genAi.operationName]: 'execute_tool', [genAi.toolName]: target }
              : {}),
            ...(message.method === 'prompts/get' && target ? { 'gen_ai.prompt.name': target } : {}),
            ...(message.method === 'resources/read' && target ? { [mcp.resourceUri]: target } : {}),
            ...(message.id !== undefined ? { 'jsonrpc.request.id': String(message.id) } : {}),
            ...header(c, 'mcp-session-id', mcp.sessionId),
            ...header(c, 'mcp-protocol-version', mcp.protocolVersion),
            'network.transport': 'tcp',
            'network.protocol.name': 'http',
            'http.response.status_code': status,
            ...(failed || status >= 500
              ? { 'error.type': failed ? '_OTHER' : String(status) }
              : {}),
          },
          links: [],
          events: [],
          status: failed || status >= 500 ? { code: 'error' } : { code: 'unset' },
        };
        session.export([record]);
      }
      if (failed) throw failed;
    },
    metrics: async () => (session.prometheus ? session.prometheus() : ''),
  };
}

interface JsonRpcMessage {
  method: string;
  id?: string | number;
  params?: { name?: unknown; uri?: unknown; _meta?: unknown };
}

/** The JSON-RPC request or notification in the body (one message; batches are not traced). */
async function jsonRpcOf(c: Context): Promise<JsonRpcMessage | undefined> {
  if (!(c.req.header('content-type') ?? '').includes('json')) return undefined;
  try {
    const body = (await c.req.raw.clone().json()) as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
    const method = (body as { method?: unknown }).method;
    return typeof method === 'string' ? (body as JsonRpcMessage) : undefined;
  } catch {
    return undefined;
  }
}

/** SEP-414: the caller's trace context in `params._meta.traceparent`. */
function metaTraceparent(params: JsonRpcMessage['params']): string | undefined {
  const meta = params?._meta;
  if (typeof meta !== 'object' || meta === null) return undefined;
  const value = (meta as { traceparent?: unknown }).traceparent;
  return typeof value === 'string' ? value : undefined;
}

function targetOf(message: JsonRpcMessage): string | undefined {
  const name = message.params?.name ?? message.params?.uri;
  return typeof name === 'string' ? name : undefined;
}

function header(c: Context, name: string, attribute: string): Record<string, string> {
  const value = c.req.header(name);
  return value ? { [attribute]: value } : {};
}
