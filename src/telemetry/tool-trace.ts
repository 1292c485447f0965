/**
 * The trace context an MCP tool call carries (SEP-414: `traceparent` in `params._meta`), looked
 * up in the telemetry of this process. Without telemetry it is undefined and costs one call.
 */
type Lookup = (runId: string, callId: string) => string | undefined;

let lookup: Lookup | undefined;

export function setToolTraceLookup(next: Lookup): void {
  lookup = next;
}

/** Stops looking up in `mine` (a closed store's telemetry), unless another took its place. */
export function clearToolTraceLookup(mine: Lookup): void {
  if (lookup === mine) lookup = undefined;
}

export function toolTraceparent(runId: string, callId: string): string | undefined {
  return lookup?.(runId, callId);
}
