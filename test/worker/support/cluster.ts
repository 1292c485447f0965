import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, onTestFinished } from 'vitest';
import { loadConfig } from '../../../src/config/config.ts';
import { RunManager } from '../../../src/server/run-manager.ts';
import { PostgresStore } from '../../../src/store/postgres/postgres-store.ts';
import { PostgresWorkQueue } from '../../../src/store/postgres/postgres-work-queue.ts';
import { repoRoot } from '../../support/cli.ts';

export const postgresUrl =
  process.env.AGENTD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const admin = new pg.Pool({ connectionString: postgresUrl, max: 2 });
const schemas: string[] = [];
afterAll(async () => {
  for (const schema of schemas.splice(0)) {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}_jobs" CASCADE`);
  }
  await admin.end();
});

/**
 * A schema of the test's own (the store's tables; the queue's go in `<schema>_jobs`), and the
 * store URL that selects it, for this process and for the workers it starts.
 */
export async function clusterSchema(host = '127.0.0.1'): Promise<{ schema: string; url: string }> {
  const schema = `agentd_test_${randomBytes(6).toString('hex')}`;
  schemas.push(schema);
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const base = new URL(postgresUrl);
  base.hostname = host;
  base.searchParams.set('options', `-c search_path=${schema}`);
  return { schema, url: base.toString() };
}

/**
 * A store on a schema of the test's own, its queue installed, and the manager `agentd serve`
 * queues runs with; the store is closed when the test ends.
 */
export async function cluster(home: string) {
  const { schema, url } = await clusterSchema();
  const store = new PostgresStore({ url: postgresUrl, schema });
  onTestFinished(() => store.close());
  const queue = new PostgresWorkQueue(store);
  await queue.install();
  const config = loadConfig({ AGENTD_HOME: home, AGENTD_DATABASE_URL: url });
  const manager = new RunManager({ store, config, queue, log: () => {} });
  return { store, queue, manager, url };
}

export interface WorkerEvent {
  runId: string;
  seq: number;
  type: string;
}

/** An `agentd worker` in its own process, with what it printed. */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  out = '';
  err = '';
  /** Each line printed, with when it arrived (`performance.now()`). */
  readonly lines: { text: string; at: number }[] = [];
  readonly #onEvent: ((event: WorkerEvent, worker: WorkerProcess) => void) | undefined;
  readonly #onLine: Set<(line: string) => void> = new Set();
  readonly #reports: string;

  constructor(options: {
    home: string;
    url: string;
    env?: Record<string, string>;
    args?: string[];
    /** A command to run it under (`ip netns exec <ns>`). */
    prefix?: string[];
    onEvent?: (event: WorkerEvent, worker: WorkerProcess) => void;
  }) {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && !/^(ANTHROPIC|OPENAI|AGENTD)_/.test(key)) env[key] = value;
    }
    Object.assign(
      env,
      { AGENTD_HOME: options.home, AGENTD_DATABASE_URL: options.url, NO_COLOR: '1' },
      options.env,
    );
    // A worker that seems stuck can be asked where it is (`report`): Node writes a diagnostic
    // report on SIGUSR2, with its JavaScript stack and what its event loop waits on.
    this.#reports = join(options.home, `reports-${randomBytes(4).toString('hex')}`);
    const argv = [
      process.execPath,
      '--report-on-signal',
      '--report-signal=SIGUSR2',
      '--report-compact',
      `--report-directory=${this.#reports}`,
      join(repoRoot, 'bin/agentd.js'),
      'worker',
      '--events',
    ];
    const [command, ...args] = [...(options.prefix ?? []), ...argv, ...(options.args ?? [])];
    this.child = spawn(command!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#onEvent = options.onEvent;
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    let partial = '';
    this.child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      this.out += text;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) this.#line(line);
    });
    this.child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      this.err += text;
    });
    onTestFinished(() => this.kill('SIGKILL'));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal (SIGKILL ends a stopped process too). */
  kill(signal: NodeJS.Signals): void {
    if (!this.alive) return;
    try {
      this.child.kill(signal);
    } catch {
      // gone already
    }
  }

  /**
   * Where a live worker is: its JavaScript stack and the handles its event loop waits on
   * (sockets, timers), from the report Node writes on SIGUSR2; for a test's failure message.
   */
  async report(): Promise<string> {
    if (!this.alive) return 'not running';
    mkdirSync(this.#reports, { recursive: true });
    this.kill('SIGUSR2');
    for (let i = 0; i < 100; i++) {
      const file = readdirSync(this.#reports).find((name) => name.endsWith('.json'));
      if (file) {
        try {
          const report = JSON.parse(readFileSync(join(this.#reports, file), 'utf8'));
          const js = report.javascriptStack ?? {};
          const stack = [js.message, ...(js.stack ?? []).slice(0, 12)].filter(Boolean);
          const handles = (report.libuv ?? [])
            .filter(
              (h: { type: string; is_active: boolean }) =>
                ['tcp', 'pipe', 'timer', 'process', 'fs_event', 'udp'].includes(h.type) &&
                h.is_active,
            )
            .map((h: { type: string; remoteEndpoint?: { port: number } }) =>
              h.remoteEndpoint ? `${h.type}:${h.remoteEndpoint.port}` : h.type,
            );
          return `stack ${JSON.stringify(stack)}; active handles ${JSON.stringify(handles)}`;
        } catch {
          // still being written
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return 'no report in 5 s';
  }

  /** Resolves once the worker printed a line matching `pattern` (hang guard: 60 s). */
  waitFor(pattern: RegExp, what: string): Promise<string> {
    const seen = this.out.split('\n').find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(async () => {
        this.#onLine.delete(check);
        const where = await this.report().catch((e: unknown) => String(e));
        reject(
          new Error(
            `worker ${this.pid}: no ${what} in 60 s; it printed:\n${this.out}${this.err}\nwhere it is: ${where}`,
          ),
        );
      }, 60_000);
      const check = (line: string) => {
        if (!pattern.test(line)) return;
        clearTimeout(timer);
        this.#onLine.delete(check);
        resolve(line);
      };
      this.#onLine.add(check);
    });
  }

  /** When the first line matching `pattern` arrived. */
  arrivedAt(pattern: RegExp): number | undefined {
    return this.lines.find((line) => pattern.test(line.text))?.at;
  }

  #line(line: string): void {
    this.lines.push({ text: line, at: performance.now() });
    const match = /^event (\S+) (\d+) (\S+)$/.exec(line);
    if (match) this.#onEvent?.({ runId: match[1]!, seq: Number(match[2]), type: match[3]! }, this);
    for (const check of [...this.#onLine]) check(line);
  }
}

/** Waits until `probe` gives a value (hang guard: 60 s, failing with what it saw last). */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  seen: () => string = () => '',
): Promise<T> {
  const until = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; ${seen()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
