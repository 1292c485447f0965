import type { Command } from 'commander';
import type { CommandContext } from './command-context.ts';

/** `agentd init`: a new agent folder from a template. */
export function registerInit(program: Command, context: CommandContext): void {
  program
    .command('init')
    .description(
      'make an agent folder from a template (coder, security-review, ops): spec, instructions, policies and their tests, an eval suite, an offline demo',
    )
    .argument('[template]', 'the template (agentd init --list shows them)')
    .argument('[dir]', "the new folder; its name is the agent's (default: the template's name)")
    .option('--list', 'list the templates')
    .action(
      async (template: string | undefined, dir: string | undefined, flags: { list?: boolean }) => {
        const { initCommand } = await import('../commands/init.ts');
        context.exit(initCommand(template, dir, flags));
      },
    );
}
