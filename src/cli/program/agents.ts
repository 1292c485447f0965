import type { Command } from 'commander';
import type { CommandContext } from './command-context.ts';

/** `agentd agents`: the agents this machine has. */
export function registerAgents(program: Command, context: CommandContext): void {
  const agents = program
    .command('agents')
    .description('the agents this machine has: specs in $AGENTD_HOME/agents and agent_dirs');
  agents
    .command('list')
    .description('every agent with its model and description, or why its spec is broken')
    .option('--json', 'one JSON object per line')
    .action(async (options: { json?: boolean }) => {
      const { agentsListCommand } = await import('../commands/agents.ts');
      context.exit(agentsListCommand(options));
    });
  agents
    .command('show')
    .description("an agent's spec: model, tools, connectors, limits, instructions (or its error)")
    .argument('<name>')
    .option('--json', 'as JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      const { agentsShowCommand } = await import('../commands/agents.ts');
      context.exit(agentsShowCommand(name, options));
    });
}
