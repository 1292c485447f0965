import { type Command, Option } from 'commander';
import type { ServeFlags } from '../commands/serve.ts';
import type { CommandContext } from './command-context.ts';
import { collect, port, positiveInt } from './option-parsers.ts';

/** `agentd serve`: the HTTP API and the MCP gateway. */
export function registerServe(program: Command, context: CommandContext): void {
  program
    .command('serve')
    .description('the HTTP API (runs, registry) and the MCP gateway at /mcp')
    .option('--host <address>', 'address to listen on (loopback only by default)', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0: any free port)', port, 7700)
    .option(
      '--allowed-host <name>',
      'another host name requests may be addressed to (repeatable; loopback names always are)',
      collect,
      [],
    )
    .option('--allowed-origin <origin>', 'a browser origin that may call (repeatable)', collect, [])
    .option('--rate-limit <n>', 'requests a minute per API key (default 600)', positiveInt)
    .option('--max-body <bytes>', 'largest request body (default 1048576)', positiveInt)
    .option('--policy <dir>', "the MCP gateway's policy set (without it, gateway calls are denied)")
    .option(
      '--gateway-open',
      'for conformance tests only: /mcp answers without a key, as "anonymous" (loopback addresses only)',
    )
    .option('--oauth-issuer <url>', 'also accept bearer JWTs from this authorization server')
    .option(
      '--oauth-audience <url>',
      "this server's resource URL tokens must name (default: its /mcp URL)",
    )
    .option('--oauth-jwks <url>', "the issuer's keys (default: from its metadata)")

    .addOption(
      new Option('--policy-mode <mode>', 'enforce, or only log decisions').choices([
        'enforce',
        'log_only',
      ]),
    )
    .action(async (options: ServeFlags) => {
      const { serveCommand } = await import('../commands/serve.ts');
      context.exit(await serveCommand(options, context.version));
    });
}
