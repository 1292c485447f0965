/**
 * The trace context an MCP tool call carries (SEP-414: `traceparent` in `params._meta`), looked
 * up in the telemetry of this process. Without telemetry it is undefined and costs one call.
 */
let lookup: ((runId: string, callId: string) => string | undefined) | undefined;

export function setToolTraceLookup(
  next: ((runId: string, callId: string) => string | undefined) | undefined,
): void {
  lookup = next;
}

export function toolTraceparent(runId: string, callId: string): string | undefined {
  return lookup?.(runId, callId);
}
