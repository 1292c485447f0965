import type { Command } from 'commander';
import { type AgentFlags, agentOptions, limitsOf } from './agent-options.ts';
import type { CommandContext } from './command-context.ts';
import { collect } from './option-parsers.ts';

/** `agentd run`: an agent on a task, streamed. */
export function registerRun(program: Command, context: CommandContext): void {
  agentOptions(
    program
      .command('run')
      .alias('launch')
      .description('run an agent on a task, streaming what it does (also: agentd launch)')
      .argument(
        '<agent>',
        'agent spec file, its folder, or the name of an agent (see agentd agents list)',
      )
      .argument(
        '[task]',
        'what the agent should do (optional with --prompt, or for an agent in an environment: its goal)',
      )
      .option('--prompt <server/name>', "an MCP server's prompt, as the task (or before it)")
      .option('--arg <name=value>', 'an argument of the prompt (repeatable)', collect, [])
      .option('-C, --cwd <folder>', "the folder the agent works in (over the spec's workdir)")
      .option('--session <id>', "continue a session: the earlier runs' conversation comes along")
      .option(
        '--actor <id>',
        'who the run is for (memory namespaces; default: AGENTD_ACTOR, the user)',
      )
      .option(
        '--tag <tag>',
        "tag the run, key=value or a name (repeatable; after the spec's tags:)",
        collect,
        [],
      ),
  ).action(
    async (
      spec: string,
      task: string | undefined,
      flags: AgentFlags & {
        prompt?: string;
        arg?: string[];
        session?: string;
        actor?: string;
        cwd?: string;
        tag?: string[];
      },
    ) => {
      const { runCommand } = await import('../commands/run.ts');
      context.exit(await runCommand(spec, task, { ...flags, limits: limitsOf(flags) }));
    },
  );
}
