import { type Command, Option } from 'commander';
import { runStatuses } from '../../core/events.ts';
import { type AgentFlags, agentOptions, limitsOf } from './agent-options.ts';
import type { CommandContext } from './command-context.ts';
import { collect, positiveInt } from './option-parsers.ts';

/** `agentd runs`: recorded runs, listed, shown, exported, traced and resumed. */
export function registerRuns(program: Command, context: CommandContext): void {
  const runs = program.command('runs').description('inspect recorded runs');
  runs
    .command('list')
    .description('recent runs, newest first')
    .option('-n, --limit <n>', 'how many', positiveInt, 20)
    .addOption(new Option('--status <status>', 'only runs with this status').choices(runStatuses))
    .option('--resumable', 'only runs that were interrupted or wait for a person')
    .option(
      '--tag <tag>',
      'only runs with this tag, key=value or a name (repeatable: every one must match)',
      collect,
      [],
    )
    .option('--json', 'one JSON object per line')
    .action(
      async (options: {
        limit?: number;
        status?: string;
        resumable?: boolean;
        tag?: string[];
        json?: boolean;
      }) => {
        const { runsListCommand } = await import('../commands/runs.ts');
        context.exit(await runsListCommand(options));
      },
    );
  runs
    .command('tag')
    .description('put tags on a run (key=value or names), recorded in its log')
    .argument('<run-id>', 'a run id or a unique prefix of one')
    .argument('<tag...>', 'the tags to put on')
    .action(async (id: string, tags: string[]) => {
      const { runsTagCommand } = await import('../commands/runs.ts');
      context.exit(await runsTagCommand(id, { add: tags }));
    });
  runs
    .command('untag')
    .description('take tags off a run, recorded in its log')
    .argument('<run-id>', 'a run id or a unique prefix of one')
    .argument('<tag...>', 'the tags to take off')
    .action(async (id: string, tags: string[]) => {
      const { runsTagCommand } = await import('../commands/runs.ts');
      context.exit(await runsTagCommand(id, { remove: tags }));
    });
  agentOptions(
    runs
      .command('resume')
      .description('continue an interrupted or stopped run from its last durable event')
      .argument('<run-id>', 'a run id or a unique prefix of one')
      .option('--rerun-in-doubt', 'run again the tool calls the interruption left in doubt')
      .option('--skip-in-doubt', 'tell the agent those calls may or may not have happened'),
  ).action(
    async (id: string, flags: AgentFlags & { rerunInDoubt?: boolean; skipInDoubt?: boolean }) => {
      const { resumeCommand } = await import('../commands/resume.ts');
      context.exit(await resumeCommand(id, { ...flags, limits: limitsOf(flags) }));
    },
  );
  runs
    .command('show')
    .description("a run's timeline: every event, with tokens and cost")
    .argument('<run-id>', 'a run id or a unique prefix of one')
    .option('--json', "the run's folded state as JSON")
    .action(async (id: string, options: { json?: boolean }) => {
      const { runsShowCommand } = await import('../commands/runs.ts');
      context.exit(await runsShowCommand(id, options));
    });
  runs
    .command('export')
    .description("a run's events as JSON lines")
    .argument('<run-id>', 'a run id or a unique prefix of one')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (id: string, options: { output?: string }) => {
      const { runsExportCommand } = await import('../commands/runs.ts');
      context.exit(await runsExportCommand(id, options));
    });
  runs
    .command('trace')
    .description("a run's OpenTelemetry trace (with its members' runs), over OTLP or to a file")
    .argument('<run-id>', 'a run id or a unique prefix of one')
    .option('-o, --output <file>', 'write OTLP/JSON to a file instead of sending it')
    .option('--endpoint <url>', 'send to this OTLP endpoint (default: the configured one)')
    .action(async (id: string, options: import('../commands/trace.ts').TraceFlags) => {
      const { runsTraceCommand } = await import('../commands/trace.ts');
      context.exit(await runsTraceCommand(id, options));
    });
}
