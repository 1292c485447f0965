/**
 * Attribute names of the OpenTelemetry GenAI semantic conventions (development status) that
 * agentd emits, written out so that building spans loads nothing; a test checks each against
 * `@opentelemetry/semantic-conventions/incubating`. agentd's own attributes are `agentd.*`.
 */
export const genAi = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  /** The name `gen_ai.provider.name` had up to v1.36 (emitted too unless opted in to the latest). */
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  usageCacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  usageCacheCreationInputTokens: 'gen_ai.usage.cache_creation.input_tokens',
  usageReasoningOutputTokens: 'gen_ai.usage.reasoning.output_tokens',
  agentName: 'gen_ai.agent.name',
  agentId: 'gen_ai.agent.id',
  conversationId: 'gen_ai.conversation.id',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolType: 'gen_ai.tool.type',
  toolDescription: 'gen_ai.tool.description',
  toolCallArguments: 'gen_ai.tool.call.arguments',
  toolCallResult: 'gen_ai.tool.call.result',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
  tokenType: 'gen_ai.token.type',
} as const;

/** General conventions used beside them. */
export const general = {
  errorType: 'error.type',
  serviceName: 'service.name',
  serviceVersion: 'service.version',
} as const;

/** The MCP conventions, for the gateway's server spans. */
export const mcp = {
  methodName: 'mcp.method.name',
  sessionId: 'mcp.session.id',
  protocolVersion: 'mcp.protocol.version',
  resourceUri: 'mcp.resource.uri',
} as const;

export const metricNames = {
  tokenUsage: 'gen_ai.client.token.usage',
  operationDuration: 'gen_ai.client.operation.duration',
} as const;

/**
 * `OTEL_SEMCONV_STABILITY_OPT_IN` with `gen_ai_latest_experimental`: only the latest names.
 * Without it agentd also emits the v1.36 names that changed since (`gen_ai.system`), so
 * backends that still read them keep working.
 */
export function latestGenAiOnly(env: Readonly<Record<string, string | undefined>>): boolean {
  return (env.OTEL_SEMCONV_STABILITY_OPT_IN ?? '')
    .split(',')
    .map((value) => value.trim())
    .includes('gen_ai_latest_experimental');
}
