import type { Command } from 'commander';
import type { CommandContext } from './command-context.ts';

/** `agentd models`: the model catalog. */
export function registerModels(program: Command, context: CommandContext): void {
  program
    .command('models')
    .description('the model catalog: context windows, prices, settings, distillation terms')
    .option('--provider <name>', 'only this provider')
    .option('--json', 'one JSON object per line, with sources')
    .option(
      '--refresh-terms <base-url>',
      'read which models allow distillation from an OpenRouter-style API (<base-url>/models?distillable=true|false) and keep it',
    )
    .action(async (options: { json?: boolean; provider?: string; refreshTerms?: string }) => {
      const { modelsCommand } = await import('../commands/models.ts');
      context.exit(await modelsCommand(options));
    });
}
