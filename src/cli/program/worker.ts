import type { Command } from 'commander';
import type { WorkerFlags } from '../commands/worker.ts';
import type { CommandContext } from './command-context.ts';
import { positiveInt } from './option-parsers.ts';

/** `agentd worker`: drives runs queued on the Postgres store, beside other workers. */
export function registerWorker(program: Command, context: CommandContext): void {
  program
    .command('worker')
    .description(
      'drive runs queued on the Postgres store (agentd serve queues them); run as many as you like, on any hosts',
    )
    .option('--concurrency <n>', 'runs driven at once (default 4)', positiveInt, 4)
    .option(
      '--lease <ms>',
      "how long a run's lease lasts unrenewed before another worker takes it over (default 30000)",
      positiveInt,
      30_000,
    )
    .option(
      '--events',
      'print a line for each part of starting (started <part>), every job taken (take <run> <why>) and every event a run here makes durable (event <run> <seq> <type>)',
    )
    .action(async (options: WorkerFlags) => {
      const { workerCommand } = await import('../commands/worker.ts');
      context.exit(await workerCommand(options));
    });
}
