// Each command group registers itself (program/); a command's implementation (commands/) is
// imported only when it runs: `agentd --help` and `--version` load no providers, stores or servers.
import { Command, CommanderError } from 'commander';
import { isAgentdError } from '../core/errors.ts';
import { paint } from './format.ts';
import { registerAgents } from './program/agents.ts';
import { registerApprovals } from './program/approvals.ts';
import { registerAudit } from './program/audit.ts';
import type { CommandContext } from './program/command-context.ts';
import { registerData } from './program/data.ts';
import { registerEnv } from './program/env.ts';
import { registerEval } from './program/eval.ts';
import { registerInit } from './program/init.ts';
import { registerKeys } from './program/keys.ts';
import { registerMcp } from './program/mcp.ts';
import { registerMemory } from './program/memory.ts';
import { registerModels } from './program/models.ts';
import { registerPolicy } from './program/policy.ts';
import { registerRedteam } from './program/redteam.ts';
import { registerRun } from './program/run.ts';
import { registerRuns } from './program/runs.ts';
import { registerServe } from './program/serve.ts';
import { registerStore } from './program/store.ts';
import { registerTeam } from './program/team.ts';
import { registerVoice } from './program/voice.ts';
import { registerWorker } from './program/worker.ts';

const version = '0.1.0';

/** The command groups, in the order `agentd --help` lists them. */
const groups = [
  registerInit,
  registerRun,
  registerRuns,
  registerVoice,
  registerTeam,
  registerAgents,
  registerMcp,
  registerServe,
  registerWorker,
  registerStore,
  registerKeys,
  registerApprovals,
  registerPolicy,
  registerRedteam,
  registerAudit,
  registerEval,
  registerData,
  registerEnv,
  registerMemory,
  registerModels,
];

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
  AGENTD_MODEL_STALL_TIMEOUT  seconds a provider may send nothing before the call is retried (default 600)
  ANTHROPIC_API_KEY, OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_COMPATIBLE_BASE_URL, OPENAI_COMPATIBLE_API_KEY
  MISTRAL_API_KEY, MISTRAL_BASE_URL   Voxtral transcription (agentd voice, agentd transcribe; docs/voice.md)`,
    );
  const context: CommandContext = {
    version,
    exit: (exitCode) => {
      code = exitCode;
    },
  };
  for (const register of groups) register(program, context);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed on one line
      return error.exitCode === 0 ? 0 : 2;
    }
    // A store that failed under a command (the disk filled, another process held it) is the
    // user's to fix, not a bug: one line, like any AgentdError.
    const known = isAgentdError(error)
      ? error
      : (error as { code?: unknown })?.code === 'ERR_SQLITE_ERROR'
        ? (await import('./store-fault.ts')).storeFault(error)
        : undefined;
    if (known) {
      process.stderr.write(`${paint('red', 'agentd:')} ${known.message}\n`);
      return 2;
    }
    process.stderr.write(`agentd: internal error (a bug; please report it with this trace):\n`);
    process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
    return 70;
  }
}
