import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The server span of the request being handled (the gateway's span of an `/mcp` call), so
 * work it starts (a run `agentd__launch_agent` launches) joins its trace. Undefined outside a
 * traced request, and whenever telemetry is off.
 */
export const requestTrace = new AsyncLocalStorage<{ traceparent: string }>();

export function currentTraceparent(): string | undefined {
  return requestTrace.getStore()?.traceparent;
}
