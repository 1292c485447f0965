import type { Command } from 'commander';
import { type AgentFlags, agentOptions, limitsOf } from './agent-options.ts';
import type { CommandContext } from './command-context.ts';
import { collect } from './option-parsers.ts';

/** `agentd run`: an agent on a task, streamed. */
export function registerRun(program: Command, context: CommandContext): void {
  agentOptions(
    program
      .command('run')
      .description('run an agent on a task, streaming what it does')
      .argument('<agent.yaml>', 'agent spec file, or the name of an agent (see agentd agents list)')
      .argument(
        '[task]',
        'what the agent should do (optional with --prompt, or for an agent in an environment: its goal)',
      )
      .option('--prompt <server/name>', "an MCP server's prompt, as the task (or before it)")
      .option('--arg <name=value>', 'an argument of the prompt (repeatable)', collect, [])
      .option('--session <id>', "continue a session: the earlier runs' conversation comes along")
      .option(
        '--actor <id>',
        'who the run is for (memory namespaces; default: AGENTD_ACTOR, the user)',
      ),
  ).action(
    async (
      spec: string,
      task: string | undefined,
      flags: AgentFlags & { prompt?: string; arg?: string[]; session?: string; actor?: string },
    ) => {
      const { runCommand } = await import('../commands/run.ts');
      context.exit(await runCommand(spec, task, { ...flags, limits: limitsOf(flags) }));
    },
  );
}
