import type { Command } from 'commander';
import type { CommandContext } from './command-context.ts';
import { positiveInt } from './option-parsers.ts';

/** `agentd approvals`: tool calls waiting for a person's answer. */
export function registerApprovals(program: Command, context: CommandContext): void {
  const approvals = program
    .command('approvals')
    .description("tool calls waiting for a person's approval (permits marked @approval)");
  approvals
    .command('list')
    .description('requests waiting for an answer, newest first')
    .option('--all', 'answered ones too')
    .option('--run <run-id>', "only this run's")
    .option('-n, --limit <n>', 'how many', positiveInt, 50)
    .option('--json', 'one JSON object per line')
    .action(async (options: { all?: boolean; run?: string; limit?: number; json?: boolean }) => {
      const { approvalsListCommand } = await import('../commands/approvals.ts');
      context.exit(await approvalsListCommand(options));
    });
  approvals
    .command('approve')
    .description('let the call run (the first answer wins)')
    .argument('<approval-id>', 'an approval id or a unique prefix of one')
    .option('--reason <text>', 'why, for the audit log')
    .action(async (id: string, options: { reason?: string }) => {
      const { approvalsAnswerCommand } = await import('../commands/approvals.ts');
      context.exit(await approvalsAnswerCommand(id, 'approved', options));
    });
  approvals
    .command('deny')
    .description('refuse the call: the agent is told by whom and why')
    .argument('<approval-id>', 'an approval id or a unique prefix of one')
    .option('--reason <text>', 'why (required)')
    .action(async (id: string, options: { reason?: string }) => {
      const { approvalsAnswerCommand } = await import('../commands/approvals.ts');
      context.exit(await approvalsAnswerCommand(id, 'denied', options));
    });
}
