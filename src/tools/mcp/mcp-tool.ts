import { AjvJsonSchemaValidator } from '@modelcontextprotocol/client/validators/ajv';
import type { JsonValue } from '../../core/messages.ts';
import type { JsonSchema } from '../../models/model.ts';
import { toolTraceparent } from '../../telemetry/tool-trace.ts';
import type { Tool, ToolContext, ValidationResult } from '../tool.ts';
import type {
  McpConnection,
  McpListOptions,
  McpProgress,
  McpToolDefinition,
} from './mcp-connection.ts';
import { McpError } from './mcp-error.ts';
import { modelToolName } from './tool-name.ts';
import { toolResultText } from './tool-result.ts';

/** Progress of one MCP tool call, with the run and call it belongs to. */
export interface McpToolProgress extends McpProgress {
  runId: string;
  callId: string;
  /** The model-facing tool name. */
  tool: string;
  server: string;
}

export interface McpToolOptions {
  /** Progress notifications of calls in flight (the runtime turns them into run events). */
  onProgress?: (progress: McpToolProgress) => void;
  /** Model-facing names already in use (other servers' tools); updated with the new ones. */
  taken?: Set<string>;
  /**
   * Tell the server which run and call it serves, in `_meta["dev.agentd/run"]`: for agentd's
   * own connectors only (other servers are never told).
   */
  runMeta?: boolean;
}

let validator: AjvJsonSchemaValidator | undefined;

/**
 * One MCP tool as an agentd tool: named `<server>__<tool>` for the model, with the server's
 * description and input schema, arguments checked against that schema, idempotent when the
 * server says it is (`idempotentHint` or `readOnlyHint`). Calls go through the connection
 * with the run's abort signal (so cancelling the run cancels the request on the server); the
 * result is the text content joined, plus structured content as JSON; an `isError` result is
 * thrown with the server's text, which the model gets as the tool's error.
 */
export function mcpTool(
  connection: McpConnection,
  definition: McpToolDefinition,
  options: McpToolOptions = {},
): Tool {
  const name = modelToolName(connection.name, definition.name, options.taken ?? new Set());
  const annotations = definition.annotations;
  const inputSchema = definition.inputSchema as JsonSchema;
  let check: ((input: unknown) => ValidationResult) | undefined;
  return {
    name,
    description: definition.description ?? definition.title ?? definition.name,
    inputSchema,
    idempotent: annotations?.idempotentHint === true || annotations?.readOnlyHint === true,
    checksIdempotencyKey: false,
    validate(input) {
      check ??= compile(inputSchema);
      return check(input);
    },
    async execute(input, context: ToolContext): Promise<JsonValue> {
      const onProgress = options.onProgress;
      const report = context.onProgress;
      // SEP-414: W3C trace context in `params._meta`, so the server's spans join the run's trace.
      const traceparent = toolTraceparent(context.runId, context.callId);
      const meta = {
        ...(traceparent ? { traceparent } : {}),
        ...(options.runMeta
          ? {
              'dev.agentd/run': {
                runId: context.runId,
                callId: context.callId,
                idempotencyKey: context.idempotencyKey,
              },
            }
          : {}),
      };
      const result = await connection.callTool(
        definition.name,
        (input ?? {}) as Record<string, unknown>,
        {
          signal: context.signal,
          ...(traceparent || options.runMeta ? { meta } : {}),
          ...(onProgress || report
            ? {
                onProgress: (progress: McpProgress) => {
                  report?.(progress);
                  onProgress?.({
                    ...progress,
                    runId: context.runId,
                    callId: context.callId,
                    tool: name,
                    server: connection.name,
                  });
                },
              }
            : {}),
        },
      );
      const text = toolResultText(result);
      if (result.isError) {
        throw new McpError(
          connection.name,
          'tool_error',
          text ||
            `MCP server "${connection.name}": tool "${definition.name}" failed without a message`,
        );
      }
      return text;
    },
  };
}

/** Every tool a server offers, as agentd tools (the list comes from the connection's cache). */
export async function mcpTools(
  connection: McpConnection,
  options: McpToolOptions & McpListOptions = {},
): Promise<Tool[]> {
  const taken = options.taken ?? new Set<string>();
  const definitions = await connection.listTools(options);
  return definitions.map((definition) => mcpTool(connection, definition, { ...options, taken }));
}

function compile(schema: JsonSchema): (input: unknown) => ValidationResult {
  try {
    validator ??= new AjvJsonSchemaValidator();
    const validate = validator.getValidator<unknown>(schema);
    return (input) => {
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        return { ok: false, error: 'the arguments must be a JSON object' };
      }
      const result = validate(input);
      return result.valid ? { ok: true, value: input } : { ok: false, error: result.errorMessage };
    };
  } catch {
    // A schema the validator cannot compile: the server checks the arguments itself.
    return (input) => ({ ok: true, value: input });
  }
}
