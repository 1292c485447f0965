import type { CallToolResult, Tool as McpTool, ServerContext } from '@modelcontextprotocol/server';
import { errorMessage } from '../core/errors.ts';
import type { RunEvent } from '../core/events.ts';
import { listAgents } from '../definition/agent-catalog.ts';
import { currentTraceparent } from '../telemetry/request-trace.ts';
import { errorResult, ownServerName, progressLine } from './gateway-protocol.ts';
import type { GatewayOptions, GatewayTool } from './gateway-types.ts';

/** The gateway's own tools are listed as this server's (`agentd__<tool>`). */
const ownServer = ownServerName;

/** The gateway's own tools: the tool search, and with runs on, the agent launcher. */
export function ownTools(options: GatewayOptions): GatewayTool[] {
  const own = (tool: string, definition: Omit<McpTool, 'name'>): GatewayTool => ({
    name: `${ownServer}__${tool}`,
    server: ownServer,
    tool,
    transport: 'agentd',
    definition: { name: `${ownServer}__${tool}`, ...definition },
  });
  const tools = [
    own('search_tools', {
      description:
        'Search the tools this gateway offers by what they do; returns the best matches with their names and descriptions. Use it when the list is long.',
      inputSchema: {
        type: 'object',
        properties: {
          query: { type: 'string', description: 'what the tool should do, in a few words' },
          limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
        },
        required: ['query'],
      },
      annotations: { readOnlyHint: true },
    }),
  ];
  if (options.manager) {
    const agents = listAgents(options.config).agents.filter((a) => a.valid);
    if (agents.length) {
      tools.push(
        own('launch_agent', {
          description: `Hand a task to one of this machine's agents and get its result. Agents: ${agents
            .map((a) => `${a.name}${a.description ? ` (${a.description})` : ''}`)
            .join('; ')}.`,
          inputSchema: {
            type: 'object',
            properties: {
              agent: { type: 'string', enum: agents.map((a) => a.name) },
              task: { type: 'string', minLength: 1 },
              wait: {
                type: 'boolean',
                default: true,
                description: 'false: return the run id at once instead of the result',
              },
            },
            required: ['agent', 'task'],
          },
        }),
      );
    }
  }
  return tools;
}

/** Runs one of the gateway's own tools (after the policy allowed the call). */
export async function runOwnTool(
  tool: string,
  input: Record<string, unknown>,
  ctx: ServerContext,
  options: GatewayOptions,
  listed: () => Promise<GatewayTool[]>,
): Promise<CallToolResult> {
  if (tool === 'search_tools') {
    const query = String(input.query ?? '').trim();
    if (!query) return errorResult('query: give the words to search for');
    const limit = Math.min(50, Math.max(1, Number(input.limit ?? 10) || 10));
    const found = await options.store.searchTools(query, limit * 2);
    const names = new Map((await listed()).map((t) => [`${t.server}.${t.tool}`, t.name]));
    const lines = found
      .flatMap((t) => {
        const name = names.get(`${t.server}.${t.name}`);
        return name ? [`${name}: ${t.description}`] : [];
      })
      .slice(0, limit);
    return {
      content: [{ type: 'text', text: lines.join('\n') || `No tool matches "${query}".` }],
    };
  }
  return launch(input, ctx, options);
}

/** `agentd__launch_agent`: starts a run of the agent and, unless `wait` is false, waits for its end. */
async function launch(
  input: Record<string, unknown>,
  ctx: ServerContext,
  options: GatewayOptions,
): Promise<CallToolResult> {
  const manager = options.manager!;
  const agent = listAgents(options.config).agents.find((a) => a.name === input.agent);
  if (!agent?.valid) return errorResult(`no agent "${String(input.agent)}" to launch`);
  const task = String(input.task ?? '').trim();
  if (!task) return errorResult('task: say what the agent should do');
  const { dirname } = await import('node:path');
  let runId: string;
  try {
    const traceparent = currentTraceparent();
    runId = await manager.start({
      specPath: agent.path,
      cwd: dirname(agent.path),
      task,
      ...(traceparent ? { traceparent } : {}),
    });
  } catch (error) {
    return errorResult(errorMessage(error));
  }
  if (input.wait === false) {
    return {
      content: [{ type: 'text', text: `started run ${runId}` }],
      structuredContent: { runId, status: 'running' },
    };
  }
  const token = ctx.mcpReq._meta?.progressToken;
  let step = 0;
  const finished = new Promise<RunEvent | undefined>((resolve) => {
    const onEvent = (event: RunEvent) => {
      if (event.runId !== runId) return;
      if (token !== undefined) {
        step++;
        void ctx.mcpReq
          .notify({
            method: 'notifications/progress',
            params: { progressToken: token, progress: step, message: progressLine(event) },
          })
          .catch(() => {});
      }
      if (
        event.type === 'run.finished' ||
        event.type === 'run.suspended' ||
        event.type === 'run.needs_attention' ||
        event.type === 'approval.requested'
      ) {
        done(event);
      }
    };
    const onStopped = (id: string) => {
      if (id === runId) done(undefined);
    };
    const done = (event: RunEvent | undefined) => {
      manager.events.off('event', onEvent);
      manager.events.off('stopped', onStopped);
      resolve(event);
    };
    manager.events.on('event', onEvent);
    manager.events.on('stopped', onStopped);
    ctx.mcpReq.signal.addEventListener('abort', () => manager.cancel(runId), { once: true });
  });
  const last = await finished;
  if (last?.type === 'approval.requested') {
    // A person has to answer first: the caller gets the run and how to answer, not a wait.
    const id = last.data.approvalId;
    return {
      content: [
        {
          type: 'text',
          text: `run ${runId} is waiting for approval ${id} of ${last.data.name} (${last.data.reason}); a person answers with agentd approvals approve ${id} or deny ${id} --reason "..."`,
        },
      ],
      structuredContent: { runId, status: 'awaiting_approval', approvalId: id },
    };
  }
  const run = await options.store.getRun(runId);
  const status = run?.status ?? 'failed';
  const output = last?.type === 'run.finished' ? (last.data.output ?? last.data.detail ?? '') : '';
  return {
    content: [{ type: 'text', text: `run ${runId} ${status}${output ? `:\n${output}` : ''}` }],
    structuredContent: { runId, status, output },
    ...(status === 'completed' ? {} : { isError: true }),
  };
}
