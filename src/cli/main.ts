// Commands are imported when they run: `agentd --help` should not load model providers.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { parseDuration } from '../core/duration.ts';
import { isAgentdError } from '../core/errors.ts';
import { type Limits, runStatuses } from '../core/events.ts';
import { type EffortLevel, effortLevels } from '../models/catalog.ts';
import type { ServerFlags } from './commands/mcp.ts';
import { paint } from './format.ts';

const version = '0.1.0';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new InvalidArgumentError(`"${value}" is not a positive whole number`);
  }
  return n;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError(`"${value}" is not a port (0 to 65535)`);
  }
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`"${value}" is not a positive number`);
  return n;
}

function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    throw new InvalidArgumentError(`"${value}" is not a duration (e.g. 90s, 30m, 2h)`);
  }
  return ms;
}

interface AgentFlags {
  json?: boolean;
  model?: string;
  effort?: EffortLevel;
  maxTurns?: number;
  maxTokens?: number;
  maxCostUsd?: number;
  maxTime?: number;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
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
function agentOptions(command: Command): Command {
  return command
    .option('--json', 'print every event as a JSON line instead of the readable stream')
    .option('-m, --model <provider/model-id>', "use this model instead of the spec's")
    .addOption(new Option('--effort <level>', 'how hard the model thinks').choices(effortLevels))
    .option('--max-turns <n>', 'stop after this many model calls', positiveInt)
    .option('--max-tokens <n>', 'stop after this many tokens (input + output)', positiveInt)
    .option('--max-cost-usd <usd>', 'stop after spending this much', positiveNumber)
    .option('--max-time <duration>', 'stop after this long, e.g. 30m', duration);
}

function limitsOf(flags: AgentFlags): Partial<Limits> {
  const limits: Partial<Limits> = {};
  if (flags.maxTurns !== undefined) limits.maxTurns = flags.maxTurns;
  if (flags.maxTokens !== undefined) limits.maxTokens = flags.maxTokens;
  if (flags.maxCostUsd !== undefined) limits.maxCostUsd = flags.maxCostUsd;
  if (flags.maxTime !== undefined) limits.maxTimeMs = flags.maxTime;
  return limits;
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
  AGENTD_TELEMETRY     on or off: OpenTelemetry traces and metrics (OTEL_* variables; docs/observability.md)
  ANTHROPIC_API_KEY, OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_COMPATIBLE_BASE_URL, OPENAI_COMPATIBLE_API_KEY`,
    );

  agentOptions(
    program
      .command('run')
      .description('run an agent on a task, streaming what it does')
      .argument('<agent.yaml>', 'agent spec file, or the name of an agent (see agentd agents list)')
      .argument('[task]', 'what the agent should do (optional with --prompt)')
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
      const { runCommand } = await import('./commands/run.ts');
      code = await runCommand(spec, task, { ...flags, limits: limitsOf(flags) });
    },
  );

  const runs = program.command('runs').description('inspect recorded runs');
  runs
    .command('list')
    .description('recent runs, newest first')
    .option('-n, --limit <n>', 'how many', positiveInt, 20)
    .addOption(new Option('--status <status>', 'only runs with this status').choices(runStatuses))
    .option('--resumable', 'only runs that were interrupted or wait for a person')
    .option('--json', 'one JSON object per line')
    .action(
      async (options: { limit?: number; status?: string; resumable?: boolean; json?: boolean }) => {
        const { runsListCommand } = await import('./commands/runs.ts');
        code = await runsListCommand(options);
      },
    );
  agentOptions(
    runs
      .command('resume')
      .description('continue an interrupted or stopped run from its last durable event')
      .argument('<run-id>', 'a run id or a unique prefix of one')
      .option('--rerun-in-doubt', 'run again the tool calls the interruption left in doubt')
      .option('--skip-in-doubt', 'tell the agent those calls may or may not have happened'),
  ).action(
    async (id: string, flags: AgentFlags & { rerunInDoubt?: boolean; skipInDoubt?: boolean }) => {
      const { resumeCommand } = await import('./commands/resume.ts');
      code = await resumeCommand(id, { ...flags, limits: limitsOf(flags) });
    },
  );
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

  runs
    .command('trace')
    .description("a run's OpenTelemetry trace (with its members' runs), over OTLP or to a file")
    .argument('<run-id>', 'a run id or a unique prefix of one')
    .option('-o, --output <file>', 'write OTLP/JSON to a file instead of sending it')
    .option('--endpoint <url>', 'send to this OTLP endpoint (default: the configured one)')
    .action(async (id: string, options: import('./commands/trace.ts').TraceFlags) => {
      const { runsTraceCommand } = await import('./commands/trace.ts');
      code = await runsTraceCommand(id, options);
    });

  // agentd team: a lead and parallel teammates on a shared task board (docs/teams.md)
  const team = program
    .command('team')
    .description('agent teams: a lead splits a job into tasks, teammates do them in parallel');
  const teamOptions = (command: Command): Command =>
    command
      .option('--json', 'every entry of the team log and every member event as JSON lines')
      .option('--max-running <n>', 'teammates running at once (over the team file)', positiveInt)
      .option('--max-turns <n>', 'team budget: model calls of all members together', positiveInt)
      .option('--max-tokens <n>', 'team budget: tokens of all members together', positiveInt)
      .option('--max-cost-usd <usd>', 'team budget: spend of all members together', positiveNumber)
      .option('--max-time <duration>', 'team budget: active time of the team, e.g. 30m', duration);
  const teamBudget = (flags: AgentFlags) => {
    const limits = limitsOf(flags);
    return {
      ...(limits.maxTurns !== undefined ? { maxTurns: limits.maxTurns } : {}),
      ...(limits.maxTokens !== undefined ? { maxTokens: limits.maxTokens } : {}),
      ...(limits.maxCostUsd !== undefined ? { maxCostUsd: limits.maxCostUsd } : {}),
      ...(limits.maxTimeMs !== undefined ? { maxTimeMs: limits.maxTimeMs } : {}),
    };
  };
  teamOptions(
    team
      .command('run')
      .description(
        'run a team on a job: the board and the members live on stderr, the result on stdout',
      )
      .argument('<team.yaml>', 'team file: a lead, teammate roles, limits')
      .argument('<task>', 'the job'),
  ).action(async (file: string, task: string, flags: AgentFlags & { maxRunning?: number }) => {
    const { teamRunCommand } = await import('./commands/team.ts');
    code = await teamRunCommand(file, task, { ...flags, budget: teamBudget(flags) });
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
      const { teamResumeCommand } = await import('./commands/team.ts');
      code = await teamResumeCommand(id, { ...flags, budget: teamBudget(flags) });
    },
  );
  team
    .command('show')
    .description("a team: its board, the message history and each member's runs")
    .argument('<team-id>', 'a team id or a unique prefix of one')
    .option('--json', 'as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const { teamShowCommand } = await import('./commands/team.ts');
      code = await teamShowCommand(id, options);
    });
  team
    .command('list')
    .description('recent teams, newest first')
    .option('-n, --limit <n>', 'how many', positiveInt, 20)
    .option('--json', 'one JSON object per line')
    .action(async (options: { limit?: number; json?: boolean }) => {
      const { teamListCommand } = await import('./commands/team.ts');
      code = await teamListCommand(options);
    });

  const agents = program
    .command('agents')
    .description('the agents this machine has: specs in $AGENTD_HOME/agents and agent_dirs');
  agents
    .command('list')
    .description('every agent with its model and description, or why its spec is broken')
    .option('--json', 'one JSON object per line')
    .action(async (options: { json?: boolean }) => {
      const { agentsListCommand } = await import('./commands/agents.ts');
      code = agentsListCommand(options);
    });
  agents
    .command('show')
    .description("an agent's spec: model, tools, connectors, limits, instructions (or its error)")
    .argument('<name>')
    .option('--json', 'as JSON')
    .action(async (name: string, options: { json?: boolean }) => {
      const { agentsShowCommand } = await import('./commands/agents.ts');
      code = agentsShowCommand(name, options);
    });

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
      const { mcpAddCommand } = await import('./commands/mcp.ts');
      code = await mcpAddCommand(name, command, flags);
    });
  mcp
    .command('list')
    .description('registered servers, their state, tools and containment')
    .option('--json', 'one JSON object per line (no secret values)')
    .action(async (options: { json?: boolean }) => {
      const { mcpListCommand } = await import('./commands/mcp.ts');
      code = await mcpListCommand(options);
    });
  mcp
    .command('show')
    .description('a server: how it runs, its containment, its tools with their schemas')
    .argument('<name>')
    .option('--json', 'as JSON (no secret values)')
    .action(async (name: string, options: { json?: boolean }) => {
      const { mcpShowCommand } = await import('./commands/mcp.ts');
      code = await mcpShowCommand(name, options);
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
        const { mcpConfigureCommand } = await import('./commands/mcp.ts');
        code = await mcpConfigureCommand(name, flags);
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
        const { mcpSetEnabledCommand } = await import('./commands/mcp.ts');
        code = await mcpSetEnabledCommand(name, enabled);
      });
  }
  mcp
    .command('refresh')
    .description('start a server and list its tools again (for show and search)')
    .argument('<name>')
    .action(async (name: string) => {
      const { mcpRefreshCommand } = await import('./commands/mcp.ts');
      code = await mcpRefreshCommand(name);
    });
  mcp
    .command('run')
    .description(
      'start a stdio server in the foreground, contained as agents get it (for debugging)',
    )
    .argument('<name>')
    .action(async (name: string) => {
      const { mcpRunCommand } = await import('./commands/mcp.ts');
      code = await mcpRunCommand(name);
    });
  mcp
    .command('remove')
    .description('unregister a server and forget its secrets and tools')
    .argument('<name>')
    .action(async (name: string) => {
      const { mcpRemoveCommand } = await import('./commands/mcp.ts');
      code = await mcpRemoveCommand(name);
    });
  mcp
    .command('search')
    .description('find tools by what they do, across enabled servers')
    .argument('<query>')
    .option('-n, --limit <n>', 'how many', positiveInt, 10)
    .option('--json', 'one JSON object per line')
    .action(async (query: string, options: { limit?: number; json?: boolean }) => {
      const { mcpSearchCommand } = await import('./commands/mcp.ts');
      code = await mcpSearchCommand(query, options);
    });

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
    .action(async (options: import('./commands/serve.ts').ServeFlags) => {
      const { serveCommand } = await import('./commands/serve.ts');
      code = await serveCommand(options, version);
    });

  const storeCommand = program
    .command('store')
    .description(
      'the store: SQLite under AGENTD_HOME, or Postgres (store: in config.yaml, AGENTD_DATABASE_URL)',
    );
  storeCommand
    .command('migrate')
    .description("bring the configured store's schema up to this agentd's version")
    .action(async () => {
      const { storeMigrateCommand } = await import('./commands/store.ts');
      code = await storeMigrateCommand();
    });
  storeCommand
    .command('copy')
    .description('copy a SQLite store into an empty Postgres store, and verify the copy')
    .requiredOption('--to <url>', 'the Postgres store: postgres://user@host:port/database')
    .option('--from <file>', "the SQLite store to copy (default: this machine's)")
    .action(async (options: { to: string; from?: string }) => {
      const { storeCopyCommand } = await import('./commands/store.ts');
      code = await storeCopyCommand(options);
    });

  const keys = program.command('keys').description('API keys for agentd serve');
  keys
    .command('create')
    .description('a new API key, printed once (only its hash is kept)')
    .requiredOption('--name <name>', 'who or what will use it')
    .requiredOption(
      '--scopes <list>',
      'comma-separated: runs, approvals, mcp, registry, policies, audit, metrics',
    )
    .action(async (options: { name: string; scopes: string }) => {
      const { keysCreateCommand } = await import('./commands/keys.ts');
      code = await keysCreateCommand(options);
    });
  keys
    .command('list')
    .description('API keys: id, name, scopes, state (never the key)')
    .option('--json', 'one JSON object per line')
    .action(async (options: { json?: boolean }) => {
      const { keysListCommand } = await import('./commands/keys.ts');
      code = await keysListCommand(options);
    });
  keys
    .command('revoke')
    .description('refuse a key from now on')
    .argument('<id>', 'the key id (key_...)')
    .action(async (id: string) => {
      const { keysRevokeCommand } = await import('./commands/keys.ts');
      code = await keysRevokeCommand(id);
    });

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
      const { approvalsListCommand } = await import('./commands/approvals.ts');
      code = await approvalsListCommand(options);
    });
  approvals
    .command('approve')
    .description('let the call run (the first answer wins)')
    .argument('<approval-id>', 'an approval id or a unique prefix of one')
    .option('--reason <text>', 'why, for the audit log')
    .action(async (id: string, options: { reason?: string }) => {
      const { approvalsAnswerCommand } = await import('./commands/approvals.ts');
      code = await approvalsAnswerCommand(id, 'approved', options);
    });
  approvals
    .command('deny')
    .description('refuse the call: the agent is told by whom and why')
    .argument('<approval-id>', 'an approval id or a unique prefix of one')
    .option('--reason <text>', 'why (required)')
    .action(async (id: string, options: { reason?: string }) => {
      const { approvalsAnswerCommand } = await import('./commands/approvals.ts');
      code = await approvalsAnswerCommand(id, 'denied', options);
    });

  const policy = program
    .command('policy')
    .description(
      'Cedar policies for tool calls: validate, test, show the schema, replay past calls, draft',
    );
  policy
    .command('validate')
    .description("check a policy folder against the schema of an agent's tools")
    .argument('[dir]', "the folder of .cedar files (default: the agent's)")
    .option('--agent <agent.yaml>', 'the agent whose tools make the schema')
    .action(async (dir: string | undefined, options: { agent?: string }) => {
      const { policyValidateCommand } = await import('./commands/policy.ts');
      code = await policyValidateCommand(dir, options);
    });
  policy
    .command('test')
    .description('decide each request of a cases file and compare with what it expects (for CI)')
    .argument('<cases.yaml>')
    .action(async (file: string) => {
      const { policyTestCommand } = await import('./commands/policy.ts');
      code = await policyTestCommand(file);
    });
  policy
    .command('schema')
    .description("the Cedar schema an agent's policies are checked against")
    .option('--agent <agent.yaml>', 'the agent whose tools make the schema')
    .option('--json', "Cedar's JSON schema format")
    .action(async (options: { agent?: string; json?: boolean }) => {
      const { policySchemaCommand } = await import('./commands/policy.ts');
      code = await policySchemaCommand(options);
    });
  policy
    .command('what-if')
    .description(
      'replay the tool calls of past runs against other policies: every decision that would change',
    )
    .argument('<dir>', 'the folder of .cedar files to try')
    .option('--since <date|age>', 'only runs started since, e.g. 7d, 12h or 2026-11-01')
    .option('--agent <agent.yaml>', "only this agent's runs (its tools make the schema)")
    .option('--json', 'every changed decision as a JSON line, then the summary')
    .action(async (dir: string, options: { since?: string; agent?: string; json?: boolean }) => {
      const { policyWhatIfCommand } = await import('./commands/policy.ts');
      code = await policyWhatIfCommand(dir, options);
    });
  policy
    .command('draft')
    .description(
      "the agent's model writes Cedar for a requirement; agentd validates it and shows it (never activates it)",
    )
    .argument('<requirement>', 'what the policies should say, in plain language')
    .option(
      '--agent <agent.yaml>',
      'the agent whose tools make the schema (and whose model writes)',
    )
    .option('-m, --model <provider/model-id>', "write with this model instead of the agent's")
    .option('--save <file.cedar>', 'write the validated policies to this new file')
    .action(
      async (requirement: string, options: { agent?: string; model?: string; save?: string }) => {
        const { policyDraftCommand } = await import('./commands/policy.ts');
        code = await policyDraftCommand(requirement, options);
      },
    );
  policy
    .command('save')
    .description('keep a folder of .cedar files in the store as the next version of a named set')
    .argument('<dir>', 'the policy folder')
    .requiredOption('--as <name>', 'the set (specs use it with policy: { set: <name> })')
    .option('--activate', 'also make this version the one in force (after checking it)')
    .option('--agent <agent.yaml>', "also check against this agent's own tools")
    .action(async (dir: string, options: { as: string; activate?: boolean; agent?: string }) => {
      const { policySaveCommand } = await import('./commands/policy.ts');
      code = await policySaveCommand(dir, options);
    });
  policy
    .command('activate')
    .description('make a saved version of a set the one in force (an invalid one never is)')
    .argument('<name[@version]>', 'the set, and the version (default: the newest)')
    .option('--agent <agent.yaml>', "also check against this agent's own tools")
    .action(async (ref: string, options: { agent?: string }) => {
      const { policyActivateCommand } = await import('./commands/policy.ts');
      code = await policyActivateCommand(ref, options);
    });
  policy
    .command('sets')
    .description('the policy sets in the store: versions, when saved, which is active')
    .option('--json', 'one JSON object per line, with the files')
    .action(async (options: { json?: boolean }) => {
      const { policySetsCommand } = await import('./commands/policy.ts');
      code = await policySetsCommand(options);
    });

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
      const { auditListCommand } = await import('./commands/audit.ts');
      code = await auditListCommand(options);
    });
  audit
    .command('verify')
    .description('check the chain: any edit, deletion or reordering fails, naming the entry')
    .option('--anchor <seq:hash>', 'an entry hash noted earlier, which must still be there')
    .action(async (options: { anchor?: string }) => {
      const { auditVerifyCommand } = await import('./commands/audit.ts');
      code = await auditVerifyCommand(options);
    });
  audit
    .command('export')
    .description('every entry as JSON lines, with its hashes')
    .option('--run <run-id>', "only this run's")
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (options: { output?: string; run?: string }) => {
      const { auditExportCommand } = await import('./commands/audit.ts');
      code = await auditExportCommand(options);
    });

  // agentd eval: suites of cases, recorded runs, datasets, comparisons, online scores
  const unitScore = (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
      throw new InvalidArgumentError(`"${value}" is not a score from 0 to 1`);
    }
    return n;
  };
  const evals = program
    .command('eval')
    .description('score agents: suites of cases, recorded runs, comparisons, online sampling');
  evals
    .command('run')
    .description(
      'run a suite: each case through its agent, scored, with JSON, JUnit and HTML reports',
    )
    .argument('<suite.yaml>')
    .option('-o, --out <dir>', 'folder for result.json, junit.xml and report.html', 'eval-results')
    .option('--json <file>', 'the JSON result here instead')
    .option('--junit <file>', 'the JUnit XML here instead')
    .option('--html <file>', 'the HTML report here instead')
    .option('--fail-under <score>', 'exit 1 when the suite score is under this (0 to 1)', unitScore)
    .option('--concurrency <n>', "cases at once (default: the suite's, else 4)", positiveInt)
    .option('--trials <n>', "runs per case (default: the suite's, else 1)", positiveInt)
    .option('--tag <tag>', 'only cases with this tag (repeatable)', collect, [])
    .option('--case <id>', 'only this case (repeatable)', collect, [])
    .action(async (suite: string, flags: import('./commands/eval.ts').EvalRunFlags) => {
      const { evalRunCommand } = await import('./commands/eval.ts');
      code = await evalRunCommand(suite, flags);
    });
  evals
    .command('score')
    .description('score recorded runs without running them again')
    .argument('<run-id...>', 'run ids or unique prefixes')
    .option('--suite <suite.yaml>', "the suite's evaluators, judge, and cases made from these runs")
    .option('--evaluator <name>', "an evaluator (repeatable; instead of the suite's)", collect, [])
    .option('--judge <provider/model-id>', 'the judge model')
    .option(
      '--judge-script <file>',
      'scripted verdicts: the judge for scripted/*, else the offline fallback',
    )
    .option('--json <file>', 'write the result (for eval compare)')
    .option('--fail-under <score>', 'exit 1 when the mean score is under this (0 to 1)', unitScore)
    .action(async (ids: string[], flags: import('./commands/eval.ts').EvalScoreFlags) => {
      const { evalScoreCommand } = await import('./commands/eval.ts');
      code = await evalScoreCommand(ids, flags);
    });
  evals
    .command('dataset')
    .description('datasets of cases (JSONL)')
    .command('from-runs')
    .description('recorded runs as cases: the task, the answer and the calls, to review and edit')
    .option(
      '--filter <key=value>',
      'agent=, status= (default completed), since=/until= (date or age: 7d, 12h), task=, id= (repeatable)',
      collect,
      [],
    )
    .option('-n, --limit <n>', 'at most this many runs, newest first', positiveInt, 50)
    .option('-o, --output <file>', 'write the JSONL here instead of stdout')
    .action(async (flags: { filter?: string[]; limit?: number; output?: string }) => {
      const { evalFromRunsCommand } = await import('./commands/eval.ts');
      code = await evalFromRunsCommand(flags);
    });
  evals
    .command('compare')
    .description('per-evaluator deltas, per-case regressions, and whether a change is beyond noise')
    .argument('<a.json>', 'the result before (result.json of eval run or eval score)')
    .argument('<b.json>', 'the result after')
    .option('--json', 'the comparison as JSON')
    .option('--fail-on-regression', 'exit 1 when B is worse than A beyond run-to-run noise')
    .action(async (a: string, b: string, flags: { json?: boolean; failOnRegression?: boolean }) => {
      const { evalCompareCommand } = await import('./commands/eval.ts');
      code = await evalCompareCommand(a, b, flags);
    });
  evals
    .command('online')
    .description('scores online evaluation kept for finished runs (online_eval in config.yaml)')
    .option('--run <run-id>', "only this run's scores")
    .option('-n, --limit <n>', 'scores of at most this many runs, newest first', positiveInt, 20)
    .option('--json', 'one JSON object per score')
    .option('--score <run-id>', 'score this finished run now, if the sample takes it')
    .option('--force', 'with --score: score it even if the sample does not take it')
    .action(
      async (flags: {
        run?: string;
        limit?: number;
        json?: boolean;
        score?: string;
        force?: boolean;
      }) => {
        const { evalOnlineCommand } = await import('./commands/eval.ts');
        code = await evalOnlineCommand(flags);
      },
    );

  // agentd memory: long-term memories, where they came from, and forgetting them
  const memoryFilters = (command: Command): Command =>
    command
      .option(
        '--actor <id>',
        "only this actor's memories (/actor/<id>/... and those from their runs)",
      )
      .option('--agent <name>', "only this agent's namespace (/agent/<name>/...)")
      .option('--team <name>', "only this team's namespace (/team/<name>/...)")
      .option('--namespace <path>', 'only under this namespace (repeatable)', collect, [])
      .option('--kind <kind>', 'fact, preference, summary or episode (repeatable)', collect, [])
      .option('--json', 'one JSON object per line');
  const memory = program
    .command('memory')
    .description("agents' long-term memory: list, search, show, forget, export");
  memoryFilters(memory.command('list').description('active memories, newest first'))
    .option('--all', 'superseded versions too')
    .option('-n, --limit <n>', 'how many', positiveInt, 50)
    .action(async (flags: import('./commands/memory.ts').MemoryFilterFlags & { all?: boolean }) => {
      const { memoryListCommand } = await import('./commands/memory.ts');
      code = await memoryListCommand(flags);
    });
  memoryFilters(
    memory
      .command('search')
      .description('hybrid search (full-text and vectors), or full-text without an embedding model')
      .argument('<query>'),
  )
    .option('-n, --limit <n>', 'how many', positiveInt, 10)
    .action(async (query: string, flags: import('./commands/memory.ts').MemoryFilterFlags) => {
      const { memorySearchCommand } = await import('./commands/memory.ts');
      code = await memorySearchCommand(query, flags);
    });
  memory
    .command('show')
    .description('a memory with its provenance and the versions it replaced')
    .argument('<id>', 'a memory id or a unique prefix of one')
    .option('--json', 'as JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const { memoryShowCommand } = await import('./commands/memory.ts');
      code = await memoryShowCommand(id, flags);
    });
  memory
    .command('forget')
    .description('remove a memory (and the versions it replaced) from every index')
    .argument('<id>', 'a memory id or a unique prefix of one')
    .action(async (id: string) => {
      const { memoryForgetCommand } = await import('./commands/memory.ts');
      code = await memoryForgetCommand(id);
    });
  memory
    .command('export')
    .description('every memory of an actor, as JSON lines')
    .option('--actor <id>', 'whose memories')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (flags: { actor?: string; output?: string }) => {
      const { memoryExportCommand } = await import('./commands/memory.ts');
      code = await memoryExportCommand(flags);
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
