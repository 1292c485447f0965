import type { Command } from 'commander';
import { type AgentFlags, limitsOf } from './agent-options.ts';
import type { CommandContext } from './command-context.ts';
import { duration, positiveInt, positiveNumber } from './option-parsers.ts';

/** The options `team run` and `team resume` share: the team's budget and its width. */
function teamOptions(command: Command): Command {
  return command
    .option('--json', 'every entry of the team log and every member event as JSON lines')
    .option('--max-running <n>', 'teammates running at once (over the team file)', positiveInt)
    .option('--max-turns <n>', 'team budget: model calls of all members together', positiveInt)
    .option('--max-tokens <n>', 'team budget: tokens of all members together', positiveInt)
    .option('--max-cost-usd <usd>', 'team budget: spend of all members together', positiveNumber)
    .option('--max-time <duration>', 'team budget: active time of the team, e.g. 30m', duration);
}

/** `agentd team`: a lead and parallel teammates on a shared task board (docs/teams.md). */
export function registerTeam(program: Command, context: CommandContext): void {
  const team = program
    .command('team')
    .description('agent teams: a lead splits a job into tasks, teammates do them in parallel');
  teamOptions(
    team
      .command('run')
      .description(
        'run a team on a job: the board and the members live on stderr, the result on stdout',
      )
      .argument('<team.yaml>', 'team file: a lead, teammate roles, limits')
      .argument('<task>', 'the job'),
  ).action(async (file: string, task: string, flags: AgentFlags & { maxRunning?: number }) => {
    const { teamRunCommand } = await import('../commands/team.ts');
    context.exit(await teamRunCommand(file, task, { ...flags, budget: limitsOf(flags) }));
  });
  teamOptions(
    team
      .command('resume')
      .description('continue a team after a crash or a stop: its board, mailboxes and every run')
      .argument('<team-id>', 'a team id or a unique prefix of one')
      .option('--rerun-in-doubt', 'run again the tool calls a crash left in doubt')
      .option('--skip-in-doubt', 'tell the agents those calls may or may not have happened'),
  ).action(
    async (
      id: string,
      flags: AgentFlags & { maxRunning?: number; rerunInDoubt?: boolean; skipInDoubt?: boolean },
    ) => {
      const { teamResumeCommand } = await import('../commands/team.ts');
      context.exit(await teamResumeCommand(id, { ...flags, budget: limitsOf(flags) }));
    },
  );
  team
    .command('show')
    .description("a team: its board, the message history and each member's runs")
    .argument('<team-id>', 'a team id or a unique prefix of one')
    .option('--json', 'as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const { teamShowCommand } = await import('../commands/team.ts');
      context.exit(await teamShowCommand(id, options));
    });
  team
    .command('list')
    .description('recent teams, newest first')
    .option('-n, --limit <n>', 'how many', positiveInt, 20)
    .option('--json', 'one JSON object per line')
    .action(async (options: { limit?: number; json?: boolean }) => {
      const { teamListCommand } = await import('../commands/team.ts');
      context.exit(await teamListCommand(options));
    });
}
