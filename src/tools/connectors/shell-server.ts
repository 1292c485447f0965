import { existsSync, realpathSync, statSync } from 'node:fs';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { commandEnvironment, defaultEnvAllowlist, safePath } from './command-environment.ts';
import { ConnectorError } from './connector-error.ts';
import { connectorServer } from './connector-server.ts';
import { type CommandOutcome, runCommand } from './run-command.ts';
import { errorResult, guarded, textResult } from './tool-result.ts';

export interface ShellConnectorOptions {
  /** The directory commands run in. */
  cwd: string;
  /** The longest a command may run (default 60 s); a call may ask for less. */
  timeoutMs?: number;
  /** The most output kept per stream (default 128 KiB); past it the command is stopped. */
  maxOutputBytes?: number;
  /**
   * Environment variables passed through (`LC_*` allows a prefix); PATH is a safe system
   * path unless listed here. Default: HOME, USER, LOGNAME, LANG, LC_ALL, LC_CTYPE, TZ, TERM,
   * TMPDIR.
   */
  envAllowlist?: string[];
}

const defaultTimeoutMs = 60_000;
const defaultMaxOutputBytes = 128 * 1024;

const outputSchema = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  stopped: z.enum(['timeout', 'output_limit', 'cancelled']).nullable(),
  stdout: z.string(),
  stderr: z.string(),
  stdoutTruncated: z.boolean(),
  stderrTruncated: z.boolean(),
  durationMs: z.number(),
});

/**
 * The `shell` connector: runs a command with /bin/sh in a configured directory, with a
 * timeout, an output limit and an environment of allowlisted variables only.
 */
export function createShellServer(options: ShellConnectorOptions): McpServer {
  const cwd = directory(options.cwd);
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const maxOutputBytes = options.maxOutputBytes ?? defaultMaxOutputBytes;
  const allowlist = options.envAllowlist ?? defaultEnvAllowlist;
  const path = allowlist.includes('PATH') ? 'the PATH agentd has' : `PATH=${safePath}`;
  const limits = `Runs in ${cwd} with /bin/sh, stdin closed, at most ${timeoutMs} ms and ${maxOutputBytes} bytes of output per stream (past either, the command and everything it started are stopped). Environment: ${path}${allowlist.length ? ` and ${allowlist.filter((n) => n !== 'PATH').join(', ')}` : ''}; nothing else.`;
  const server = connectorServer('shell', `Shell commands. ${limits}`);

  server.registerTool(
    'run',
    {
      title: 'Run a shell command',
      description: `Run a shell command and return its exit code, stdout and stderr. ${limits}`,
      inputSchema: z.object({
        command: z.string().min(1).describe('The command line, as /bin/sh -c takes it'),
        timeout_ms: z
          .number()
          .int()
          .positive()
          .max(timeoutMs)
          .optional()
          .describe(`Stop it after this many milliseconds (at most ${timeoutMs})`),
      }),
      outputSchema,
      annotations: {
        title: 'Run a shell command',
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    ({ command, timeout_ms: timeout }, ctx) =>
      guarded(async () => {
        const outcome = await runCommand(command, {
          cwd,
          env: commandEnvironment(allowlist),
          timeoutMs: timeout ?? timeoutMs,
          maxOutputBytes,
          signal: ctx.mcpReq.signal,
        }).catch((error: unknown) => {
          if (!existsSync(cwd)) {
            throw new ConnectorError(`shell connector: cwd "${cwd}" no longer exists`);
          }
          throw error;
        });
        const text = describe(outcome, timeout ?? timeoutMs, maxOutputBytes);
        const structured = { ...outcome };
        return outcome.stopped === null
          ? textResult(text, structured)
          : errorResult(text, structured);
      }),
  );

  return server;
}

function directory(path: string): string {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    throw new ConnectorError(`shell connector: cwd "${path}" does not exist; create it or fix it`);
  }
  if (!statSync(real).isDirectory()) {
    throw new ConnectorError(`shell connector: cwd "${path}" is not a directory`);
  }
  return real;
}

/** What happened, first line first, then the output. */
function describe(outcome: CommandOutcome, timeoutMs: number, maxOutputBytes: number): string {
  const ended =
    outcome.exitCode !== null ? `exit code ${outcome.exitCode}` : `ended by ${outcome.signal}`;
  const headline =
    outcome.stopped === 'timeout'
      ? `timed out after ${timeoutMs} ms; the command and everything it started were stopped (${ended})`
      : outcome.stopped === 'output_limit'
        ? `output passed the limit of ${maxOutputBytes} bytes; the command was stopped (${ended}); narrow its output, e.g. with head, tail or grep`
        : outcome.stopped === 'cancelled'
          ? `cancelled; the command was stopped (${ended})`
          : `${ended} after ${outcome.durationMs} ms`;
  const parts = [headline];
  if (outcome.stdout) {
    parts.push(`--- stdout${outcome.stdoutTruncated ? ' (truncated)' : ''} ---`, outcome.stdout);
  }
  if (outcome.stderr) {
    parts.push(`--- stderr${outcome.stderrTruncated ? ' (truncated)' : ''} ---`, outcome.stderr);
  }
  return parts.join('\n');
}
