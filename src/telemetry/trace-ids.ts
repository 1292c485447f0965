import { hash } from 'node:crypto';

/** A W3C trace context: where a span sits in a trace. */
export interface SpanContext {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  /** Whether the caller sampled it (W3C `trace-flags` bit 0). */
  sampled: boolean;
}

/**
 * A run's trace and span ids are derived from its id and the events they start at, never
 * drawn at random: the process that runs a run, the one that resumes it after a crash and
 * `agentd runs trace` a month later all give the same span the same id.
 */
export function traceIdOf(runId: string): string {
  return digest(`agentd.trace:${runId}`, 32);
}

/** The span that opens at event `seq` of a run (`key` tells spans apart that open together). */
export function spanIdOf(runId: string, seq: number, key = ''): string {
  return digest(`agentd.span:${runId}:${seq}:${key}`, 16);
}

function digest(text: string, hexDigits: number): string {
  const hex = hash('sha256', text, 'hex').slice(0, hexDigits);
  // An all-zero id is invalid in W3C trace context; 2^-64 odds, but never emit one.
  return hex.charCodeAt(0) === 48 && /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * A `traceparent` header as W3C Trace Context defines it; undefined for anything malformed
 * (version ff, all-zero ids, wrong lengths, upper case), which a receiver must ignore.
 */
export function parseTraceparent(header: string | undefined | null): SpanContext | undefined {
  if (!header) return undefined;
  const match = traceparentPattern.exec(header.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampled: (Number.parseInt(flags!, 16) & 1) === 1 };
}

export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.sampled ? '01' : '00'}`;
}
