// Commands are imported when they run: `agentd --help` should not load model providers.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { isAgentdError } from '../core/errors.ts';
import { paint } from './format.ts';

const version = '0.1.0';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`"${value}" is not a positive whole number`);
  return n;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  const program = new Command('agentd')
    .description('Run AI agents durably: every step recorded, every run inspectable.')
    .version(version, '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`${paint('red', text.trimEnd())}\n`) })
    .addHelpText(
      'after',
      `
Environment:
  AGENTD_HOME          data directory (default ~/.agentd): the run store and config.yaml
  AGENTD_DURABILITY    process (default) or machine; see the README
  ANTHROPIC_API_KEY, OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_COMPATIBLE_BASE_URL, OPENAI_COMPATIBLE_API_KEY`,
    );

  program
    .command('run')
    .description('run an agent on a task, streaming what it does')
    .argument('<agent.yaml>', 'agent spec file')
    .argument('<task>', 'what the agent should do')
    .option('--json', 'print every event as a JSON line instead of the readable stream')
    .option('-m, --model <provider/model-id>', "use this model instead of the spec's")
    .option('--max-turns <n>', "override the spec's limits.max_turns", positiveInt)
    .action(
      async (
        spec: string,
        task: string,
        options: { json?: boolean; model?: string; maxTurns?: number },
      ) => {
        const { runCommand } = await import('./commands/run.ts');
        code = await runCommand(spec, task, options);
      },
    );

  const runs = program.command('runs').description('inspect recorded runs');
  runs
    .command('list')
    .description('recent runs, newest first')
    .option('-n, --limit <n>', 'how many', positiveInt, 20)
    .addOption(
      new Option('--status <status>', 'only runs with this status').choices([
        'running',
        'completed',
        'failed',
        'cancelled',
        'budget_exceeded',
      ]),
    )
    .option('--json', 'one JSON object per line')
    .action(async (options: { limit?: number; status?: string; json?: boolean }) => {
      const { runsListCommand } = await import('./commands/runs.ts');
      code = await runsListCommand(options);
    });
  runs
    .command('show')
    .description("a run's timeline: every event, with tokens and cost")
    .argument('<run-id>', 'a run id or a unique prefix of one')
    .option('--json', "the run's folded state as JSON")
    .action(async (id: string, options: { json?: boolean }) => {
      const { runsShowCommand } = await import('./commands/runs.ts');
      code = await runsShowCommand(id, options);
    });
  runs
    .command('export')
    .description("a run's events as JSON lines")
    .argument('<run-id>', 'a run id or a unique prefix of one')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (id: string, options: { output?: string }) => {
      const { runsExportCommand } = await import('./commands/runs.ts');
      code = await runsExportCommand(id, options);
    });

  program
    .command('models')
    .description('the model catalog: context windows, prices, settings, distillation terms')
    .option('--provider <name>', 'only this provider')
    .option('--json', 'one JSON object per line, with sources')
    .action(async (options: { json?: boolean; provider?: string }) => {
      const { modelsCommand } = await import('./commands/models.ts');
      code = modelsCommand(options);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed on one line
      return error.exitCode === 0 ? 0 : 2;
    }
    if (isAgentdError(error)) {
      process.stderr.write(`${paint('red', 'agentd:')} ${error.message}\n`);
      return 2;
    }
    process.stderr.write(`agentd: internal error (a bug; please report it with this trace):\n`);
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    return 70;
  }
}
