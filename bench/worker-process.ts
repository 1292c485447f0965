import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FrameworkName } from './frameworks/catalog.ts';
import type { ReadyMessage, WorkerCommand, WorkerReply } from './messages.ts';

const workerFile = fileURLToPath(new URL('./worker.ts', import.meta.url));

/**
 * The environment workers run in: the coordinator's, less what would turn on a peer's
 * tracing or send it over the network (OPENAI_API_KEY would make the OpenAI Agents SDK
 * export its traces; LangSmith variables would make LangChain trace), and less NODE_ENV
 * (`test` turns the OpenAI Agents SDK's tracing off, which is not its default).
 */
export function workerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (
      key === 'NODE_ENV' ||
      key === 'NODE_OPTIONS' ||
      key === 'OPENAI_API_KEY' ||
      key.startsWith('LANGCHAIN_') ||
      key.startsWith('LANGSMITH_') ||
      key.startsWith('OPENAI_AGENTS_')
    ) {
      delete env[key];
    }
  }
  return env;
}

type Reply<C extends WorkerCommand> = Extract<WorkerReply, { type: C['type'] }>;

/** A worker process hosting one framework, driven over IPC. */
export class WorkerProcess {
  readonly framework: FrameworkName;
  readonly child: ChildProcess;
  /** ms from the child's spawn to its framework loaded, as the child measured it. */
  importMs = 0;
  readonly #stderr: string[] = [];
  #waiting: ((reply: WorkerReply) => void) | undefined;
  #exited: Promise<number | null>;

  private constructor(framework: FrameworkName, execArgv: string[]) {
    this.framework = framework;
    this.child = fork(workerFile, [framework], {
      execArgv: ['--expose-gc', ...execArgv],
      env: workerEnv(),
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (text: string) => {
      this.#stderr.push(...text.split('\n').filter((line) => line.trim() !== ''));
      if (this.#stderr.length > 40) this.#stderr.splice(0, this.#stderr.length - 40);
    });
    this.child.on('message', (message: WorkerReply) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.(message);
    });
    this.#exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.#exited.then((code) => {
      const waiting = this.#waiting;
      this.#waiting = undefined;
      waiting?.({ type: 'error', message: `worker exited (${code}): ${this.stderrTail()}` });
    });
  }

  /** Starts a worker and waits until its framework is loaded. */
  static async start(framework: FrameworkName, execArgv: string[] = []): Promise<WorkerProcess> {
    const worker = new WorkerProcess(framework, execArgv);
    const ready = await worker.#next();
    if (ready.type !== 'ready') throw new Error(`${framework} worker: ${worker.#describe(ready)}`);
    worker.importMs = (ready as ReadyMessage).importMs;
    return worker;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  async request<C extends WorkerCommand>(command: C): Promise<Reply<C>> {
    const reply = this.#next();
    this.child.send(command);
    const answer = await reply;
    if (answer.type !== command.type) {
      throw new Error(`${this.framework} worker, ${command.type}: ${this.#describe(answer)}`);
    }
    return answer as Reply<C>;
  }

  async exit(): Promise<void> {
    if (this.child.exitCode === null && this.child.connected) this.child.send({ type: 'exit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(timer);
  }

  stderrTail(): string {
    return this.#stderr.slice(-8).join('\n');
  }

  #next(): Promise<WorkerReply> {
    return new Promise((resolve) => {
      this.#waiting = resolve;
    });
  }

  #describe(reply: WorkerReply): string {
    return reply.type === 'error'
      ? `${reply.message}\n${this.stderrTail()}`
      : `unexpected ${reply.type}`;
  }
}
