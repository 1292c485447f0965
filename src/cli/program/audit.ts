import type { Command } from 'commander';
import type { CommandContext } from './command-context.ts';
import { positiveInt } from './option-parsers.ts';

/** `agentd audit`: the hash-chained audit log. */
export function registerAudit(program: Command, context: CommandContext): void {
  const audit = program
    .command('audit')
    .description('the hash-chained audit log of policy decisions');
  audit
    .command('list')
    .description('recent decisions, newest first')
    .option('--run <run-id>', "only this run's")
    .option('-n, --limit <n>', 'how many', positiveInt, 50)
    .option('--json', 'one JSON object per line')
    .action(async (options: { run?: string; limit?: number; json?: boolean }) => {
      const { auditListCommand } = await import('../commands/audit.ts');
      context.exit(await auditListCommand(options));
    });
  audit
    .command('verify')
    .description('check the chain: any edit, deletion or reordering fails, naming the entry')
    .option('--anchor <seq:hash>', 'an entry hash noted earlier, which must still be there')
    .action(async (options: { anchor?: string }) => {
      const { auditVerifyCommand } = await import('../commands/audit.ts');
      context.exit(await auditVerifyCommand(options));
    });
  audit
    .command('export')
    .description('every entry as JSON lines, with its hashes')
    .option('--run <run-id>', "only this run's")
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (options: { output?: string; run?: string }) => {
      const { auditExportCommand } = await import('../commands/audit.ts');
      context.exit(await auditExportCommand(options));
    });
}
