import type { Command } from 'commander';
import type { CommandContext } from './command-context.ts';

/** `agentd store`: the configured store's schema, and copying a SQLite store into Postgres. */
export function registerStore(program: Command, context: CommandContext): void {
  const store = program
    .command('store')
    .description(
      'the store: SQLite under AGENTD_HOME, or Postgres (store: in config.yaml, AGENTD_DATABASE_URL)',
    );
  store
    .command('migrate')
    .description("bring the configured store's schema up to this agentd's version")
    .action(async () => {
      const { storeMigrateCommand } = await import('../commands/store.ts');
      context.exit(await storeMigrateCommand());
    });
  store
    .command('copy')
    .description('copy a SQLite store into an empty Postgres store, and verify the copy')
    .requiredOption('--to <url>', 'the Postgres store: postgres://user@host:port/database')
    .option('--from <file>', "the SQLite store to copy (default: this machine's)")
    .action(async (options: { to: string; from?: string }) => {
      const { storeCopyCommand } = await import('../commands/store.ts');
      context.exit(await storeCopyCommand(options));
    });
}
