import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, sep } from 'node:path';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import {
  bubblewrapArgs,
  type ContainmentHost,
  detectContainmentHost,
  type SandboxLayout,
  summarizeSandbox,
} from '../bubblewrap.ts';
import type { ContainedPath } from '../mcp/server-config.ts';
import { commandEnvironment, defaultEnvAllowlist, safePath } from './command-environment.ts';
import { ConnectorError } from './connector-error.ts';
import { connectorServer } from './connector-server.ts';
import { type CommandOutcome, runCommand } from './run-command.ts';
import { maskSecretFiles } from './secret-file.ts';
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
  /**
   * `auto` (default): each command runs in a bubblewrap sandbox where `bwrap` is installed,
   * otherwise with the other limits only. `required`: the connector does not start without
   * bwrap. `off`: no sandbox; the directory, environment, time and output limits still apply.
   */
  sandbox?: ShellSandbox;
  /** Network inside the sandbox (default false; without a sandbox nothing stops it). */
  network?: boolean;
  /**
   * The directory is read-only inside the sandbox (default false): commands may read the
   * project but change nothing in it. Needs the sandbox; `sandbox: off` refuses it.
   */
  readOnly?: boolean;
  /** Absolute paths the sandboxed command sees besides its directory (read-only unless writable). */
  paths?: ContainedPath[];
  /**
   * Where bwrap is (default: looked up on PATH and in the system's bin folders). When nothing
   * executable is there, bubblewrap counts as not installed.
   */
  bwrapPath?: string;
}

export const shellSandboxModes = ['auto', 'required', 'off'] as const;
export type ShellSandbox = (typeof shellSandboxModes)[number];

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
  sandboxed: z.boolean(),
});

/** How the connector's commands are contained on this machine. */
export interface ShellContainment {
  cwd: string;
  /** The bwrap command line that runs the shell, when sandboxed. */
  wrapper: string[] | undefined;
  /** One sentence for the model and for people: what contains the commands. */
  summary: string;
}

/**
 * Decides the containment before the connector starts: the directory must exist, declared
 * paths must be absolute and exist, and `sandbox: required` needs bwrap. Throws a one-line
 * ConnectorError otherwise.
 */
export function shellContainment(
  options: ShellConnectorOptions,
  host: ContainmentHost = detectContainmentHost(
    process.env.PATH,
    options.bwrapPath === undefined ? {} : { bwrapPath: options.bwrapPath },
  ),
): ShellContainment {
  const cwd = directory(options.cwd);
  const paths = (options.paths ?? []).map(declaredPath);
  const mode = options.sandbox ?? 'auto';
  if (options.readOnly && mode === 'off') {
    throw new ConnectorError(
      'shell connector: read_only needs the sandbox, but connectors.shell.sandbox is off: set it to auto or required (with bubblewrap installed)',
    );
  }
  if (mode === 'off') {
    return { cwd, wrapper: undefined, summary: unsandboxed('connectors.shell.sandbox is off') };
  }
  if (!host.bwrapPath) {
    const at = options.bwrapPath === undefined ? '' : ` at ${options.bwrapPath}`;
    if (options.readOnly) {
      throw new ConnectorError(
        `shell connector: read_only needs the sandbox but bwrap is not installed${at}: install bubblewrap (apt-get install bubblewrap) or remove connectors.shell.read_only`,
      );
    }
    if (mode === 'required') {
      throw new ConnectorError(
        `shell connector: sandbox is "required" but bwrap is not installed${at}: install bubblewrap (apt-get install bubblewrap) or set connectors.shell.sandbox to auto or off`,
      );
    }
    return { cwd, wrapper: undefined, summary: unsandboxed('bwrap is not installed') };
  }
  for (const path of [cwd, ...paths.map((p) => p.path)]) {
    if (path === sep) {
      throw new ConnectorError(
        'shell connector: "/" cannot be a sandboxed folder (it would show the whole machine); give a project folder, or set connectors.shell.sandbox to off',
      );
    }
  }
  const layout: SandboxLayout = {
    cwd,
    network: options.network === true,
    paths,
    ...(options.readOnly ? { readOnlyCwd: true } : {}),
  };
  return {
    cwd,
    wrapper: [host.bwrapPath, ...bubblewrapArgs(layout, host), '--'],
    summary: summarizeSandbox(layout),
  };
}

function unsandboxed(reason: string): string {
  return `Not sandboxed (${reason}): the command can reach the network and every file agentd's user can.`;
}

function declaredPath(entry: ContainedPath): ContainedPath {
  if (!isAbsolute(entry.path)) {
    throw new ConnectorError(`shell connector: path "${entry.path}" must be absolute`);
  }
  try {
    return { path: realpathSync(entry.path), writable: entry.writable };
  } catch {
    throw new ConnectorError(
      `shell connector: path "${entry.path}" does not exist; create it or remove it from connectors.shell.paths`,
    );
  }
}

/**
 * The `shell` connector: runs a command with /bin/sh in a configured directory, with a
 * timeout, an output limit and an environment of allowlisted variables only; where bubblewrap
 * is installed (or required), inside a sandbox with no network unless granted, only its
 * directory writable and only the system's folders and declared paths visible.
 */
export function createShellServer(
  options: ShellConnectorOptions,
  containment: ShellContainment = shellContainment(options),
): McpServer {
  const { cwd, wrapper } = containment;
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const maxOutputBytes = options.maxOutputBytes ?? defaultMaxOutputBytes;
  const allowlist = options.envAllowlist ?? defaultEnvAllowlist;
  const path = allowlist.includes('PATH') ? 'the PATH agentd has' : `PATH=${safePath}`;
  const limits = `Runs in ${cwd} with /bin/sh, stdin closed, at most ${timeoutMs} ms and ${maxOutputBytes} bytes of output per stream (past either, the command and everything it started are stopped). Environment: ${path}${allowlist.length ? ` and ${allowlist.filter((n) => n !== 'PATH').join(', ')}` : ''}; nothing else. ${containment.summary}`;
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
        reason: z
          .string()
          .min(1)
          .max(2000)
          .optional()
          .describe('Why this command is run (shown to a person asked to approve it; recorded)'),
        expected_effect: z
          .string()
          .min(1)
          .max(2000)
          .optional()
          .describe(
            'What the command will change, if anything (shown to a person asked to approve it; recorded)',
          ),
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
        const env = commandEnvironment(allowlist);
        // The host's temporary folder is not visible in the sandbox; its own /tmp is.
        if (wrapper && env.TMPDIR !== undefined) env.TMPDIR = '/tmp';
        const outcome = await runCommand(command, {
          cwd,
          env,
          timeoutMs: timeout ?? timeoutMs,
          maxOutputBytes,
          signal: ctx.mcpReq.signal,
          // Credential files under the folder are covered by empty ones in the sandbox.
          ...(wrapper ? { wrapper: maskSecretFiles(wrapper, cwd) } : {}),
        }).catch((error: unknown) => {
          if (!existsSync(cwd)) {
            throw new ConnectorError(`shell connector: cwd "${cwd}" no longer exists`);
          }
          throw error;
        });
        const sandboxed = wrapper !== undefined;
        const text = describe(outcome, timeout ?? timeoutMs, maxOutputBytes, sandboxed);
        const structured = { ...outcome, sandboxed };
        return outcome.stopped === null && !sandboxFailed(outcome, sandboxed)
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

/** bwrap itself failed (no user namespaces here, a mount it could not make): exit 1 and its message. */
function sandboxFailed(outcome: CommandOutcome, sandboxed: boolean): boolean {
  return (
    sandboxed &&
    outcome.stopped === null &&
    outcome.exitCode === 1 &&
    outcome.stderr.startsWith('bwrap: ')
  );
}

/** What happened, first line first, then the output. */
function describe(
  outcome: CommandOutcome,
  timeoutMs: number,
  maxOutputBytes: number,
  sandboxed: boolean,
): string {
  const ended =
    outcome.exitCode !== null ? `exit code ${outcome.exitCode}` : `ended by ${outcome.signal}`;
  const headline =
    outcome.stopped === 'timeout'
      ? `timed out after ${timeoutMs} ms; the command and everything it started were stopped (${ended})`
      : outcome.stopped === 'output_limit'
        ? `output passed the limit of ${maxOutputBytes} bytes; the command was stopped (${ended}); narrow its output, e.g. with head, tail or grep`
        : outcome.stopped === 'cancelled'
          ? `cancelled; the command was stopped (${ended})`
          : sandboxFailed(outcome, sandboxed)
            ? `the sandbox (bubblewrap) could not start the command: ${outcome.stderr.split('\n')[0]}`
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
