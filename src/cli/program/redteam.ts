import type { Command } from 'commander';
import type { CommandContext } from './command-context.ts';
import { collect } from './option-parsers.ts';

/** `agentd redteam`: the catalog of attacks, played on an agent. */
export function registerRedteam(program: Command, context: CommandContext): void {
  program
    .command('redteam')
    .description(
      'attack an agent with its own tools and policies (in a scratch copy of its workdir): exit 1 if any attack got through',
    )
    .argument('<agent>', 'agent spec file, its folder, or the name of an agent')
    .option('-C, --cwd <folder>', "the folder to copy as the agent's workdir (over the spec's)")
    .option('--only <attack>', 'only this attack (repeatable; ids as the table shows)', collect, [])
    .option('--json', 'the report as one JSON object')
    .action(async (agent: string, options: { cwd?: string; only?: string[]; json?: boolean }) => {
      const { redteamCommand } = await import('../commands/redteam.ts');
      context.exit(await redteamCommand(agent, options));
    });
}
