import { spawn } from 'node:child_process';
import { OutputLimit } from './output-limit.ts';

export interface CommandLimits {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Per stream; past it the command is stopped. */
  maxOutputBytes: number;
  /** Stops the command when it fires (the run was cancelled). */
  signal?: AbortSignal;
  /**
   * A program and its arguments that run the shell for it (a sandbox: bwrap ... --). Its
   * process group is what gets stopped; it must take everything inside down with it.
   */
  wrapper?: readonly string[];
}

export type StopReason = 'timeout' | 'output_limit' | 'cancelled';

export interface CommandOutcome {
  /** The shell's exit code; null when it was ended by a signal. */
  exitCode: number | null;
  /** The signal that ended the shell, e.g. "SIGTERM". */
  signal: string | null;
  /** Why agentd stopped the command, when it did. */
  stopped: StopReason | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

/** How long a stopped command gets between SIGTERM and SIGKILL. */
const killGraceMs = 2_000;
/** How long to wait for output pipes held open by a process that left the group. */
const drainMs = 1_000;

/**
 * Runs `command` with /bin/sh in its own process group (a new session), stdin closed. On
 * timeout, output past the limit, or cancellation, the whole group gets SIGTERM and then
 * SIGKILL; when the shell exits, whatever it left running in its group is killed too, so
 * nothing it started outlives the call. With a wrapper (bubblewrap), the group is the
 * wrapper's, and the sandbox's pid namespace ends with it.
 */
export function runCommand(command: string, limits: CommandLimits): Promise<CommandOutcome> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const argv = [...(limits.wrapper ?? []), '/bin/sh', '-c', command];
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: limits.cwd,
      env: limits.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout = new OutputLimit(limits.maxOutputBytes);
    const stderr = new OutputLimit(limits.maxOutputBytes);
    let stopped: StopReason | null = null;
    let exit: { code: number | null; signal: string | null } | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;

    const killGroup = (signal: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // The group is gone already.
      }
    };
    const stop = (reason: StopReason) => {
      if (stopped !== null || exit !== undefined) return;
      stopped = reason;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), killGraceMs);
    };
    const onAbort = () => stop('cancelled');
    const timeout = setTimeout(() => stop('timeout'), limits.timeoutMs);
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    if (limits.signal?.aborted) stop('cancelled');

    child.stdout.on('data', (chunk: Buffer) => {
      if (!stdout.push(chunk)) stop('output_limit');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (!stderr.push(chunk)) stop('output_limit');
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      killGroup('SIGKILL');
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, drainMs);
    });
    const cleanUp = () => {
      clearTimeout(timeout);
      clearTimeout(killTimer);
      clearTimeout(drainTimer);
      limits.signal?.removeEventListener('abort', onAbort);
    };
    child.on('error', (error) => {
      cleanUp();
      killGroup('SIGKILL');
      reject(error);
    });
    child.on('close', (code, signal) => {
      cleanUp();
      resolve({
        exitCode: exit?.code ?? code,
        signal: exit?.signal ?? signal,
        stopped,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}
