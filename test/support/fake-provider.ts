/** A local server that speaks the Anthropic and OpenAI wire formats; see fake-provider/. */
export type {
  CutReply,
  ErrorReply,
  FakeStop,
  FakeToolCall,
  RawReply,
  Reply,
  ReplyUsage,
  StreamErrorReply,
  StreamReply,
} from './fake-provider/reply.ts';
export { reply } from './fake-provider/reply.ts';
export { FakeProvider, type RecordedRequest } from './fake-provider/server.ts';
export type { RouteName } from './fake-provider/wire-format.ts';
