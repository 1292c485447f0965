import type { ErrorReply, JsonObject, StreamReply } from './reply.ts';

export type RouteName = 'anthropic-messages' | 'openai-responses' | 'openai-chat';

/** How one provider API puts replies on the wire. */
export interface WireFormat {
  readonly route: RouteName;
  /** Headers every response on this route carries (the request id). */
  responseHeaders(requestId: string): Record<string, string>;
  /** The SSE frames of a streamed reply, in order, each ending in a blank line. */
  streamFrames(reply: StreamReply, request: JsonObject, requestId: string): string[];
  /** The JSON body of the same reply asked for without `stream` (a whole response). */
  wholeBody(reply: StreamReply, request: JsonObject, requestId: string): JsonObject;
  /** An error reported inside a stream, as the `position`-th event. */
  streamErrorFrame(error: ErrorReply, position: number): string;
  /** The JSON body of an HTTP error. */
  errorBody(error: ErrorReply, requestId: string): JsonObject;
}
