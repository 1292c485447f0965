import type { Command } from 'commander';
import type { EnvTrajectoriesFlags } from '../commands/env.ts';
import type { CommandContext } from './command-context.ts';
import { collect, positiveInt, wholeNumber } from './option-parsers.ts';

/** `agentd env`: environments agents act in. */
export function registerEnv(program: Command, context: CommandContext): void {
  const env = program
    .command('env')
    .description('environments agents act in (gridworld, world models): see docs/environments.md');
  env
    .command('serve')
    .description(
      'an environment as an MCP server over stdio (register it with agentd mcp add to reach it through the gateway)',
    )
    .argument('<environment>', 'an agent spec with an environment: section, or a kind (gridworld)')
    .option('--seed <n>', "the first episode seed (default: the spec's, or 0)", wholeNumber)
    .action(async (environment: string, options: { seed?: number }) => {
      const { envServeCommand } = await import('../commands/env.ts');
      context.exit(await envServeCommand(environment, options, context.version));
    });
  env
    .command('trajectories')
    .description(
      'the environment episodes of recorded runs as a dataset, one episode a line with its lineage (agentd data export trajectories)',
    )
    .option(
      '--filter <key=value>',
      'agent=, status= (default completed), since=/until= (date or age: 7d, 12h), task=, id=, tag= (id and tag repeatable)',
      collect,
      [],
    )
    .option('-n, --limit <n>', 'at most this many episodes, newest first', positiveInt, 100)
    .option(
      '-o, --output <dir>',
      'write the dataset folder here (data.jsonl, lineage.jsonl, manifest.json, DATASET.md) instead of the lines to stdout',
    )
    .option(
      '--allow-terms <provider/model>',
      'keep episodes from this model although its terms forbid training (recorded in the manifest; repeatable)',
      collect,
      [],
    )
    .option('--allow-reason <text>', 'why --allow-terms is right (recorded with it)')
    .option(
      '--refuse-unknown',
      'leave out episodes from models whose terms are unknown (default: kept and flagged)',
    )
    .action(async (flags: EnvTrajectoriesFlags) => {
      const { envTrajectoriesCommand } = await import('../commands/env.ts');
      context.exit(await envTrajectoriesCommand(flags, context.version));
    });
  env
    .command('replay')
    .description(
      "a run's episode as an HTML page that plays it back (frames, or the gridworld's text)",
    )
    .argument('<run-id>', 'the run (or a unique prefix of its id)')
    .option('-o, --output <file>', 'where to write the page (default replay-<run>.html)')
    .action(async (run: string, flags: { output?: string }) => {
      const { envReplayCommand } = await import('../commands/env.ts');
      context.exit(await envReplayCommand(run, flags));
    });
}
