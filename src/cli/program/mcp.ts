import { type Command, Option } from 'commander';
import type { ServerFlags } from '../commands/mcp.ts';
import type { CommandContext } from './command-context.ts';
import { collect, duration, positiveInt } from './option-parsers.ts';

/** `agentd mcp`: the registry of MCP servers. */
export function registerMcp(program: Command, context: CommandContext): void {
  const mcp = program
    .command('mcp')
    .description('the registry of MCP servers this machine offers agents');
  serverOptions(
    mcp
      .command('add')
      .description(
        'register an MCP server: --npm <package>, --url <url>, --from <server.json>, or a command after --',
      )
      .argument('[name]', 'what agents call it (tools become <name>.<tool>)')
      .argument('[command...]', 'the command that starts a stdio server, after --'),
  )
    .option('--npm <package[@version]>', 'an npm package, installed with its scripts off')
    .option('--url <url>', 'a streamable HTTP server')
    .option('--from <server.json>', 'an official MCP Registry server.json')
    .option('--arg <hint=value>', 'a value for a server.json argument (repeatable)', collect, [])
    .option('--no-list', 'do not start the server to list its tools')
    .option(
      '--no-install',
      'run an npm package with npx at each start (in its sandbox) instead of installing it now',
    )
    .action(async (name: string | undefined, command: string[], flags: ServerFlags) => {
      const { mcpAddCommand } = await import('../commands/mcp.ts');
      context.exit(await mcpAddCommand(name, command, flags));
    });
  mcp
    .command('list')
    .description('registered servers, their state, tools and containment')
    .option('--json', 'one JSON object per line (no secret values)')
    .action(async (options: { json?: boolean }) => {
      const { mcpListCommand } = await import('../commands/mcp.ts');
      context.exit(await mcpListCommand(options));
    });
  mcp
    .command('show')
    .description('a server: how it runs, its containment, its tools with their schemas')
    .argument('<name>')
    .option('--json', 'as JSON (no secret values)')
    .action(async (name: string, options: { json?: boolean }) => {
      const { mcpShowCommand } = await import('../commands/mcp.ts');
      context.exit(await mcpShowCommand(name, options));
    });
  serverOptions(
    mcp
      .command('configure')
      .description("change a server's environment, secrets, roots or containment")
      .argument('<name>'),
  )
    .option('--url <url>', 'a new URL (http servers)')
    .option('--unset-env <NAME>', 'remove a variable (repeatable)', collect, [])
    .option('--unset-secret <NAME>', 'remove a secret (repeatable)', collect, [])
    .action(
      async (
        name: string,
        flags: ServerFlags & { unsetEnv?: string[]; unsetSecret?: string[] },
      ) => {
        const { mcpConfigureCommand } = await import('../commands/mcp.ts');
        context.exit(await mcpConfigureCommand(name, flags));
      },
    );
  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    mcp
      .command(verb)
      .description(`${verb} a server for agents`)
      .argument('<name>')
      .action(async (name: string) => {
        const { mcpSetEnabledCommand } = await import('../commands/mcp.ts');
        context.exit(await mcpSetEnabledCommand(name, enabled));
      });
  }
  mcp
    .command('refresh')
    .description('start a server and list its tools again (for show and search)')
    .argument('<name>')
    .action(async (name: string) => {
      const { mcpRefreshCommand } = await import('../commands/mcp.ts');
      context.exit(await mcpRefreshCommand(name));
    });
  mcp
    .command('run')
    .description(
      'start a stdio server in the foreground, contained as agents get it (for debugging)',
    )
    .argument('<name>')
    .action(async (name: string) => {
      const { mcpRunCommand } = await import('../commands/mcp.ts');
      context.exit(await mcpRunCommand(name));
    });
  mcp
    .command('remove')
    .description('unregister a server and forget its secrets and tools')
    .argument('<name>')
    .action(async (name: string) => {
      const { mcpRemoveCommand } = await import('../commands/mcp.ts');
      context.exit(await mcpRemoveCommand(name));
    });
  mcp
    .command('search')
    .description('find tools by what they do, across enabled servers')
    .argument('<query>')
    .option('-n, --limit <n>', 'how many', positiveInt, 10)
    .option('--json', 'one JSON object per line')
    .action(async (query: string, options: { limit?: number; json?: boolean }) => {
      const { mcpSearchCommand } = await import('../commands/mcp.ts');
      context.exit(await mcpSearchCommand(query, options));
    });
}

/** Options `mcp add` and `mcp configure` share: what the server gets and how it is contained. */
function serverOptions(command: Command): Command {
  return command
    .option(
      '--env <NAME=value>',
      'an environment variable for the server (repeatable)',
      collect,
      [],
    )
    .option(
      '--secret <NAME>',
      'a secret, read from the environment variable NAME (repeatable)',
      collect,
      [],
    )
    .option('--header <Name=value>', 'an HTTP header (http servers; repeatable)', collect, [])
    .option('--root <path>', 'a folder the server may work in (repeatable)', collect, [])
    .option('--network', 'let a sandboxed server reach the network')
    .addOption(
      new Option('--sandbox <kind>', 'contain a stdio server').choices([
        'auto',
        'bubblewrap',
        'none',
      ]),
    )
    .option('--call-timeout <duration>', 'longest a tool call may take, e.g. 60s', duration)
    .option('--max-output <bytes>', 'most output a tool call may return', positiveInt)
    .option('--disabled', 'registered, but not offered to agents')
    .option(
      '--no-gateway-prefix',
      "agentd serve's gateway offers its tools and prompts without <name>__",
    )
    .option(
      '--gateway-prefix',
      'the gateway names its tools and prompts <name>__<tool> (the default)',
    );
}

/** The options `run` and `runs resume` share: the model, its effort and the budgets. */
