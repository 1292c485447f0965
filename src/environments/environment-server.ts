import type { CallToolResult, Tool as McpTool } from '@modelcontextprotocol/server';
import { Server } from '@modelcontextprotocol/server';
import { errorMessage } from '../core/errors.ts';
import type { JsonValue } from '../core/messages.ts';
import type { Observation } from './environment.ts';
import { loggedObservation } from './observation-digest.ts';
import type { OpenEnvironment } from './open-environment.ts';

/**
 * An environment as an MCP server, for any MCP client (and, registered with `agentd mcp add`,
 * through the gateway): `env_reset` (a seed), `env_step` (its input schema is the action
 * space) and `env_observe`. Results carry the step record as structured content and as text,
 * and a world model's frames as MCP image content, so vision-capable clients see them.
 */
export function environmentServer(open: OpenEnvironment, version: string): Server {
  const { episode } = open;
  const environment = episode.environment;
  let calls = 0;
  const server = new Server(
    { name: `agentd-env-${environment.kind}`, version },
    {
      capabilities: { tools: {} },
      instructions: `A ${environment.kind} environment (Gymnasium semantics): env_reset starts an episode from a seed, each env_step call is one action, env_observe looks without acting.`,
    },
  );
  const tools: McpTool[] = [
    {
      name: 'env_reset',
      description: `Start a new episode of the ${environment.kind} environment. Returns the first observation.`,
      inputSchema: {
        type: 'object',
        properties: {
          seed: {
            type: 'integer',
            minimum: 0,
            description: 'the episode seed (default: the one it was started with)',
          },
        },
        additionalProperties: false,
      },
    },
    {
      name: 'env_step',
      description: `Take one action in the ${environment.kind} environment: the step's observation, reward, return so far, and whether the episode terminated or was truncated.`,
      inputSchema: { ...environment.actionSpace, type: 'object' } as McpTool['inputSchema'],
    },
    {
      name: 'env_observe',
      description: 'The current observation, without acting.',
      inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    },
  ];
  server.setRequestHandler('tools/list', async () => ({ tools }));
  server.setRequestHandler('tools/call', async (request, ctx): Promise<CallToolResult> => {
    const input = (request.params.arguments ?? {}) as Record<string, unknown>;
    try {
      switch (request.params.name) {
        case 'env_reset': {
          const seed = input.seed;
          if (seed !== undefined && !(Number.isInteger(seed) && (seed as number) >= 0)) {
            return error(`seed: must be a whole number from 0, not ${JSON.stringify(seed)}`);
          }
          const first = await episode.start(ctx.mcpReq.signal, seed as number | undefined);
          return result({ observation: loggedObservation(first) }, first);
        }
        case 'env_step': {
          const checked = environment.parseAction(input);
          if (!checked.ok) return error(checked.error);
          const record = await episode.step(checked.action, `mcp:${++calls}`, ctx.mcpReq.signal);
          return result(record as unknown as { [key: string]: JsonValue }, episode.observation);
        }
        case 'env_observe': {
          if (!episode.started) await episode.start(ctx.mcpReq.signal);
          const now = episode.observation!;
          return result(
            {
              observation: loggedObservation(now),
              ...(episode.over ? { over: episode.over } : {}),
            },
            now,
          );
        }
        default:
          return error(`no tool "${request.params.name}" (env_reset, env_step, env_observe)`);
      }
    } catch (caught) {
      return error(errorMessage(caught));
    }
  });
  return server;
}

function result(
  data: { [key: string]: JsonValue },
  observation: Observation | undefined,
): CallToolResult {
  const images = (observation?.images ?? []).flatMap((image) =>
    image.data ? [{ type: 'image' as const, data: image.data, mimeType: image.mediaType }] : [],
  );
  return {
    content: [{ type: 'text', text: JSON.stringify(data) }, ...images],
    structuredContent: data,
  };
}

function error(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message.split('\n')[0]! }], isError: true };
}
