import type { Config } from '../config/config.ts';
import type { RunEvent } from '../core/events.ts';
import { createRedactor, type Redactor } from '../core/redact.ts';
import type { LeaseFence, Store } from '../store/store.ts';
import { telemetrySettings } from './settings.ts';
import type { TelemetrySession } from './telemetry-session.ts';
import { clearToolTraceLookup, setToolTraceLookup } from './tool-trace.ts';

const sessions = new WeakMap<Store, () => Promise<TelemetrySession | undefined>>();

export interface TracedStoreOptions {
  /** Applied to captured content (the store's own redaction may come after this view). */
  redact?: Redactor;
  /** Keep the metrics for `/metrics` (agentd serve). */
  prometheus?: boolean;
  /** Where the one line about undelivered telemetry goes (default: stderr). */
  warn?: (line: string) => void;
}

/**
 * A view of `store` that feeds every append, once durable, to telemetry: spans and metrics
 * are derived from the events as they commit, so they are exactly what the log holds. The
 * SDK loads in the background from the first append; appends never wait for it or for a
 * collector. Closing the
 * store sends what is queued, within `telemetry.flush_timeout`.
 */
export function tracedStore(store: Store, config: Config, options: TracedStoreOptions = {}): Store {
  const settings = telemetrySettings(config);
  const warn = options.warn ?? ((line: string) => process.stderr.write(`agentd: ${line}\n`));
  let session: TelemetrySession | undefined;
  let early: RunEvent[] | undefined = [];
  let started: Promise<TelemetrySession | undefined> | undefined;
  const lookup = (runId: string, callId: string) => session?.live.traceparentOf(runId, callId);
  // The SDK starts with the first append (a command that only reads never loads it).
  const start = () =>
    (started ??= import('./telemetry-session.ts')
      .then(({ startTelemetry }) =>
        startTelemetry(settings, {
          store,
          redact: options.redact ?? createRedactor(),
          ...(options.prometheus ? { prometheus: true } : {}),
        }),
      )
      .then(
        (ready) => {
          session = ready;
          setToolTraceLookup(lookup);
          if (early?.length) ready.live.observe(early);
          early = undefined;
          return ready;
        },
        (error: unknown) => {
          early = undefined;
          warn(`telemetry is off: the OpenTelemetry SDK did not start (${String(error)})`);
          return undefined;
        },
      ));
  const observe = (events: readonly RunEvent[]) => {
    if (session) session.live.observe(events);
    else {
      early?.push(...events);
      void start();
    }
  };
  const bound = new Map<PropertyKey, unknown>();
  const traced: Store = new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'append') {
        return async (events: readonly RunEvent[], fence?: LeaseFence) => {
          await target.append(events, fence);
          observe(events);
        };
      }
      if (property === 'close') {
        return async () => {
          const ready = await started;
          clearToolTraceLookup(lookup);
          const line = await ready?.shutdown();
          if (line) warn(line);
          await target.close();
        };
      }
      const known = bound.get(property);
      if (known !== undefined) return known;
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const method = value.bind(target);
      bound.set(property, method);
      return method;
    },
  });
  sessions.set(traced, start);
  return traced;
}

/** The telemetry of a store opened with it on (started now if it was not); undefined when off. */
export function telemetryOf(store: Store): Promise<TelemetrySession | undefined> | undefined {
  return sessions.get(store)?.();
}
