import type { Command } from 'commander';
import type { CommandContext } from './command-context.ts';
import { wholeNumber } from './option-parsers.ts';

/** `agentd env`: environments agents act in. */
export function registerEnv(program: Command, context: CommandContext): void {
  const env = program
    .command('env')
    .description('environments agents act in (gridworld, world models): see docs/environments.md');
  env
    .command('serve')
    .description(
      'an environment as an MCP server over stdio (register it with agentd mcp add to reach it through the gateway)',
    )
    .argument('<environment>', 'an agent spec with an environment: section, or a kind (gridworld)')
    .option('--seed <n>', "the first episode seed (default: the spec's, or 0)", wholeNumber)
    .action(async (environment: string, options: { seed?: number }) => {
      const { envServeCommand } = await import('../commands/env.ts');
      context.exit(await envServeCommand(environment, options, context.version));
    });
}
