import type { Command } from 'commander';
import type { CommandContext } from './command-context.ts';

/** `agentd keys`: API keys for `agentd serve`. */
export function registerKeys(program: Command, context: CommandContext): void {
  const keys = program.command('keys').description('API keys for agentd serve');
  keys
    .command('create')
    .description('a new API key, printed once (only its hash is kept)')
    .requiredOption('--name <name>', 'who or what will use it')
    .requiredOption(
      '--scopes <list>',
      'comma-separated: runs, approvals, mcp, registry, policies, audit, metrics',
    )
    .action(async (options: { name: string; scopes: string }) => {
      const { keysCreateCommand } = await import('../commands/keys.ts');
      context.exit(await keysCreateCommand(options));
    });
  keys
    .command('list')
    .description('API keys: id, name, scopes, state (never the key)')
    .option('--json', 'one JSON object per line')
    .action(async (options: { json?: boolean }) => {
      const { keysListCommand } = await import('../commands/keys.ts');
      context.exit(await keysListCommand(options));
    });
  keys
    .command('revoke')
    .description('refuse a key from now on')
    .argument('<id>', 'the key id (key_...)')
    .action(async (id: string) => {
      const { keysRevokeCommand } = await import('../commands/keys.ts');
      context.exit(await keysRevokeCommand(id));
    });
}
