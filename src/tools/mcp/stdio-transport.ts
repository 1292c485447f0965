import { type ChildProcess, spawn } from 'node:child_process';
import { PassThrough, type Stream } from 'node:stream';
import {
  type JSONRPCMessage,
  SdkError,
  SdkErrorCode,
  serializeMessage,
  type Transport,
} from '@modelcontextprotocol/client';
import { type StdoutFlood, StdoutReader } from './stdout-reader.ts';

/** How to start a stdio server and how much of its stdout to take. */
export interface StdioTransportParams {
  command: string;
  args: readonly string[];
  /** The whole environment the process gets (nothing is added to it). */
  env: Record<string, string>;
  cwd: string;
  /** `pipe`: readable as {@link StdioTransport.stderr}; `ignore`: dropped. */
  stderr: 'pipe' | 'ignore';
  /** Longest line (one message) the server may write on stdout. */
  maxLineBytes: number;
  /** Most bytes of stdout that are not JSON-RPC messages, between two that are. */
  maxGarbageBytes: number;
}

/** The server's stdout passed a limit; the transport stops the process. */
export class StdoutFloodError extends Error {
  readonly flood: StdoutFlood;

  constructor(flood: StdoutFlood) {
    super(
      flood.kind === 'line'
        ? `stdout line longer than ${flood.limit} bytes`
        : `more than ${flood.limit} bytes on stdout that are not JSON-RPC messages`,
    );
    this.name = 'StdoutFloodError';
    this.flood = flood;
  }
}

/** After a flood, how long a server has to exit on SIGTERM before it is killed. */
const floodGraceMs = 1000;
/** How long close() waits for an exit after closing stdin, and again after SIGTERM. */
const closeGraceMs = 2000;

/**
 * The client side of MCP's stdio transport, as the SDK's `StdioClientTransport` (same spawn,
 * same close: stdin closed, then SIGTERM, then SIGKILL), with stdout read through a
 * {@link StdoutReader}: a server that writes a line longer than its limit, or a torrent of
 * output that is not JSON-RPC, is stopped at once (SIGTERM, SIGKILL after a second) and its
 * stdout no longer read, so what agentd holds of it stays under the limit. The error passed to
 * `onerror` is a {@link StdoutFloodError}; pending requests then fail as the connection closes.
 *
 * It also carries what the SDK's version negotiation looks for to probe on a disposable sibling
 * process (`_serverParams`, `_dispose`), so a 2025 server that exits on an unknown request is
 * probed as with the SDK's transport.
 */
export class StdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** Read by the SDK's version negotiation to start a sibling with the same parameters. */
  readonly _serverParams: StdioTransportParams;
  readonly #reader: StdoutReader;
  readonly #stderr: PassThrough | null;
  #process: ChildProcess | undefined;
  #flood: StdoutFlood | undefined;

  constructor(params: StdioTransportParams) {
    this._serverParams = params;
    this.#reader = new StdoutReader({
      maxLineBytes: params.maxLineBytes,
      maxGarbageBytes: params.maxGarbageBytes,
    });
    this.#stderr = params.stderr === 'pipe' ? new PassThrough() : null;
  }

  /** The server's stderr (when piped); available before start, so no early line is lost. */
  get stderr(): Stream | null {
    return this.#stderr;
  }

  get pid(): number | null {
    return this.#process?.pid ?? null;
  }

  /** The limit the server's stdout passed, if it did. */
  get flood(): StdoutFlood | undefined {
    return this.#flood;
  }

  /** The most bytes of an unfinished stdout line held at once. */
  get peakHeldBytes(): number {
    return this.#reader.peakHeld;
  }

  async start(): Promise<void> {
    if (this.#process) throw new Error('StdioTransport already started');
    const params = this._serverParams;
    await new Promise<void>((resolve, reject) => {
      const child = spawn(params.command, [...params.args], {
        env: params.env,
        cwd: params.cwd,
        stdio: ['pipe', 'pipe', params.stderr],
        shell: false,
      });
      this.#process = child;
      child.on('error', (error) => {
        reject(error);
        this.onerror?.(error);
      });
      child.on('spawn', () => resolve());
      child.on('close', () => {
        if (this.#process === child) this.#process = undefined;
        this.#reader.clear();
        this.onclose?.();
      });
      child.stdin?.on('error', (error) => this.onerror?.(error));
      child.stdout?.on('data', (chunk: Buffer) => this.#read(child, chunk));
      child.stdout?.on('error', (error) => this.onerror?.(error));
      if (this.#stderr && child.stderr) child.stderr.pipe(this.#stderr);
    });
  }

  #read(child: ChildProcess, chunk: Buffer): void {
    const read = this.#reader.push(chunk);
    for (const error of read.invalid) this.onerror?.(error);
    for (const message of read.messages) {
      try {
        this.onmessage?.(message);
      } catch (error) {
        this.onerror?.(error instanceof Error ? error : new Error(String(error)));
      }
    }
    if (read.flood && !this.#flood) {
      this.#flood = read.flood;
      this.onerror?.(new StdoutFloodError(read.flood));
      stopFlooding(child);
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#process?.stdin;
    if (!stdin || this.#flood) throw new SdkError(SdkErrorCode.NotConnected, 'Not connected');
    await new Promise<void>((resolve) => {
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    const child = this.#process;
    if (child) {
      this.#process = undefined;
      const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
      try {
        child.stdin?.end();
      } catch {
        // already gone
      }
      await Promise.race([closed, delay(closeGraceMs)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await Promise.race([closed, delay(closeGraceMs)]);
      }
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    this.#reader.clear();
  }

  /**
   * Stops a probe sibling (the SDK's version negotiation calls it): SIGTERM, SIGKILL after a
   * second, waiting for the exit, then the pipes let go.
   */
  async _dispose(): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      try {
        child.stdin?.end();
      } catch {
        // already gone
      }
      child.kill('SIGTERM');
      await Promise.race([exited, delay(floodGraceMs)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    child?.stdout?.destroy();
    child?.stdin?.destroy();
    child?.stderr?.destroy();
    this.#reader.clear();
  }
}

/** Stops reading a flooding server and ends it: SIGTERM, then SIGKILL if it is still there. */
function stopFlooding(child: ChildProcess): void {
  child.stdout?.removeAllListeners('data');
  child.stdout?.destroy();
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, floodGraceMs);
  timer.unref();
  child.once('exit', () => clearTimeout(timer));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
