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
      '--local',
      'models on this machine: GGUF files in ~/.agentd/models and local.model_dirs, and servers on 127.0.0.1',
    )
    .action(async (options: { json?: boolean; provider?: string; local?: boolean }) => {
      if (options.local) {
        const { localModelsCommand } = await import('../commands/local-models.ts');
        context.exit(await localModelsCommand(options));
        return;
      }
      const { modelsCommand } = await import('../commands/models.ts');
      context.exit(modelsCommand(options));
    });
}
