import { z } from 'zod';
import {
  findAgent,
  listAgents,
  specSummary,
  unknownAgent,
} from '../../definition/agent-catalog.ts';
import { loadAgentSpec } from '../../definition/agent-spec.ts';
import { ConnectorError } from './connector-error.ts';
import { reading, type SettingsTools } from './settings-tools.ts';
import { textResult } from './tool-result.ts';

const agentSchema = z.object({
  name: z.string(),
  path: z.string(),
  model: z.string().optional(),
  description: z.string().optional(),
  valid: z.boolean(),
  error: z.string().optional(),
});

/** The `settings` tools about the agents this machine has: list_agents and show_agent. */
export function registerAgentTools(tools: SettingsTools): void {
  registerListAgents(tools);
  registerShowAgent(tools);
}

/** `list_agents`: every agent with its spec path, or its one-line error. */
function registerListAgents({ server, respond, current }: SettingsTools): void {
  server.registerTool(
    'list_agents',
    {
      title: 'List agents',
      description:
        "List the agents this machine has (the specs in $AGENTD_HOME/agents and the folders of config.yaml's agent_dirs): each one's name, spec path, model and description, or, for a broken spec, its one-line error.",
      inputSchema: z.object({}),
      outputSchema: z.object({
        agents: z.array(agentSchema),
        folders: z.array(z.string()),
        notes: z.array(z.string()),
      }),
      annotations: { title: 'List agents', ...reading },
    },
    () =>
      respond(async () => {
        const catalog = listAgents(current());
        const lines = catalog.agents.map((a) =>
          a.valid
            ? `- ${a.name} (${a.model}): ${a.description ?? 'no description'} [${a.path}]`
            : `- ${a.name}: broken: ${a.error}`,
        );
        const text = [
          catalog.agents.length
            ? `${catalog.agents.length} agent${catalog.agents.length === 1 ? '' : 's'} in ${catalog.dirs.join(', ')}:`
            : `No agents in ${catalog.dirs.join(', ')}.`,
          ...lines,
          ...catalog.notes.map((note) => `note: ${note}`),
        ].join('\n');
        return textResult(text, {
          agents: catalog.agents,
          folders: catalog.dirs,
          notes: catalog.notes,
        });
      }),
  );
}

/** `show_agent`: one agent's spec as agentd parsed it. */
function registerShowAgent({ server, respond, current }: SettingsTools): void {
  server.registerTool(
    'show_agent',
    {
      title: 'Show an agent',
      description:
        "Show one agent's spec as agentd parsed it (model, instructions, tools, connectors, limits), or the one-line error that keeps it from running.",
      inputSchema: z.object({
        name: z.string().min(1).describe('The agent name, as list_agents shows it'),
      }),
      annotations: { title: 'Show an agent', ...reading },
    },
    ({ name }) =>
      respond(async () => {
        const catalog = listAgents(current());
        const agent = findAgent(catalog, name);
        if (!agent) throw new ConnectorError(unknownAgent(catalog, name).message);
        if (!agent.valid) {
          return textResult(`agent "${name}" is broken: ${agent.error}`, { agent });
        }
        const spec = specSummary(loadAgentSpec(agent.path));
        return textResult(JSON.stringify(spec, null, 2), { agent, spec });
      }),
  );
}
