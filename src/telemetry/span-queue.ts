import type { Resource } from '@opentelemetry/resources';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { readableSpan } from './otlp-spans.ts';
import type { SpanRecord } from './span-record.ts';

export interface SpanQueueOptions {
  exporter: SpanExporter;
  resource: Resource;
  /** Where the exporter sends (named in the warning; never its headers). */
  endpoint: string;
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduleDelayMs: number;
}

/**
 * Spans on their way to the collector: a bounded queue sent in batches, one request at a time,
 * never awaited by a run. When the collector is down or slow the queue fills and further
 * spans are dropped; what was not delivered is counted and reported once.
 */
export class SpanQueue {
  readonly #options: SpanQueueOptions;
  #queue: SpanRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** When the timer fires (a batch due now replaces a later one, never the reverse). */
  #timerDue = 0;
  /** After a failed export, batches wait until then (the collector is given time to come back). */
  #pausedUntil = 0;
  #backoffMs = 0;
  #inFlight: Promise<void> | undefined;
  #inFlightCount = 0;
  dropped = 0;
  failed = 0;
  delivered = 0;
  lastError: string | undefined;

  constructor(options: SpanQueueOptions) {
    this.#options = options;
  }

  push(spans: readonly SpanRecord[]): void {
    for (const span of spans) {
      if (this.#queue.length >= this.#options.maxQueueSize) this.dropped++;
      else this.#queue.push(span);
    }
    if (this.#queue.length >= this.#options.maxExportBatchSize) this.#sendSoon(0);
    else if (this.#queue.length > 0) this.#sendSoon(this.#options.scheduleDelayMs);
  }

  /**
   * Sends what is queued, waiting at most `timeoutMs`, or until `giveUp` says why not (the
   * collector is not there); what is left then is counted as failed.
   */
  async flush(timeoutMs: number, giveUp?: Promise<string>): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const drain = (async () => {
      while (this.#queue.length > 0 || this.#inFlight) {
        if (this.#inFlight) await this.#inFlight;
        else this.#send();
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
      timer.unref();
    });
    const late = await Promise.race([
      drain.then(() => undefined),
      timedOut,
      ...(giveUp ? [giveUp] : []),
    ]);
    clearTimeout(timer);
    if (late !== undefined) {
      this.failed += this.#queue.length + this.#inFlightCount;
      this.#queue = [];
      this.lastError = late;
    }
  }

  /** One line about what did not reach the collector, or undefined when everything did. */
  report(): string | undefined {
    const lost = this.dropped + this.failed;
    if (lost === 0) return undefined;
    return `${lost} span${lost === 1 ? '' : 's'} not exported to ${this.#options.endpoint} (${this.lastError ?? 'the queue was full'}${this.dropped ? `; ${this.dropped} dropped from a full queue` : ''}); runs were not affected`;
  }

  #sendSoon(delayMs: number): void {
    if (this.#inFlight) return; // sent when the request in flight ends
    const due = Math.max(Date.now() + delayMs, this.#pausedUntil);
    if (this.#timer && this.#timerDue <= due) return;
    clearTimeout(this.#timer);
    this.#timerDue = due;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#send();
      },
      Math.max(0, due - Date.now()),
    );
    this.#timer.unref();
  }

  #send(): void {
    if (this.#inFlight || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#options.maxExportBatchSize);
    this.#inFlightCount = batch.length;
    const resource = this.#options.resource;
    this.#inFlight = new Promise<void>((resolve) => {
      try {
        this.#options.exporter.export(
          batch.map((span) => readableSpan(span, resource)),
          (result) => {
            if (result.code === 0) {
              this.delivered += batch.length;
              this.#backoffMs = 0;
            } else {
              this.failed += batch.length;
              this.lastError = describe(result.error);
              // A collector that failed is not asked again at once: 1 s, doubling up to a minute.
              this.#backoffMs = Math.min(60_000, Math.max(1000, this.#backoffMs * 2));
              this.#pausedUntil = Date.now() + this.#backoffMs;
            }
            resolve();
          },
        );
      } catch (error) {
        this.failed += batch.length;
        this.lastError = describe(error);
        resolve();
      }
    }).then(() => {
      this.#inFlight = undefined;
      this.#inFlightCount = 0;
      if (this.#queue.length > 0) this.#sendSoon(0);
    });
  }
}

/** An export error in a few words (the exporter's errors wrap the socket's). */
export function describe(error: unknown): string {
  if (!error) return 'the export failed';
  const err = error as {
    message?: string;
    code?: string;
    cause?: { code?: string; message?: string };
  };
  const code = err.code ?? err.cause?.code;
  const message = (err.message || err.cause?.message || String(error)).split('\n')[0]!;
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
