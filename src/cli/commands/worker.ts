import { EventEmitter } from 'node:events';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import { describeUrl } from '../../store/postgres/postgres-connection.ts';
import { PostgresStore } from '../../store/postgres/postgres-store.ts';
import { PostgresWorkQueue } from '../../store/postgres/postgres-work-queue.ts';
import { RunWorker } from '../../worker/run-worker.ts';

export interface WorkerFlags {
  concurrency: number;
  lease: number;
  events?: boolean;
}

/** `agentd worker`: takes queued runs until SIGINT or SIGTERM, then lets go of them. */
export async function workerCommand(flags: WorkerFlags): Promise<number> {
  const config = loadConfig();
  if (!config.databaseUrl) {
    throw new AgentdError(
      'usage',
      'agentd worker needs the Postgres store: set store: postgres://... in config.yaml or AGENTD_DATABASE_URL (workers share runs through it)',
    );
  }
  const store = new PostgresStore({
    url: config.databaseUrl,
    durability: config.durability,
    maxConnections: flags.concurrency + 6,
  });
  // With --events, each part of starting is said as it is done (where a slow start waits).
  const started = flags.events
    ? (part: string) => process.stdout.write(`started ${part}\n`)
    : () => undefined;
  started('process');
  try {
    await store.ready();
    started('store');
    // Online evaluation (online_eval in config.yaml): runs that finish here are sampled here.
    const finished = new EventEmitter();
    const log = (line: string) => process.stdout.write(`${line}\n`);
    const online = config.onlineEval
      ? await (await import('../../evals/online.ts')).startOnlineScoring(
          store,
          config,
          finished,
          log,
        )
      : undefined;
    const worker = new RunWorker({
      store,
      queue: new PostgresWorkQueue(store),
      config,
      concurrency: flags.concurrency,
      leaseMs: flags.lease,
      log,
      onEvent: (event) => {
        finished.emit('event', event);
        if (flags.events) log(`event ${event.runId} ${event.seq} ${event.type}`);
      },
      ...(flags.events
        ? { onTake: (job) => log(`take ${job.runId} ${job.reason}`), onStarted: started }
        : {}),
    });
    await worker.start();
    process.stdout.write(
      `agentd worker ${process.pid} taking runs from ${describeUrl(config.databaseUrl)} (${flags.concurrency} at a time, lease ${flags.lease} ms)\n`,
    );
    const signal = await Promise.race([
      new Promise<NodeJS.Signals>((resolve) => {
        process.once('SIGINT', () => resolve('SIGINT'));
        process.once('SIGTERM', () => resolve('SIGTERM'));
      }),
      worker.done.then(() => undefined),
    ]);
    if (!signal)
      throw new AgentdError(
        'store_failed',
        // graphile-worker's exit code when a newer version migrated the queue beyond it.
        process.exitCode === 57
          ? 'agentd worker: the queue was upgraded by a newer agentd; upgrade this one and start it again'
          : 'agentd worker: the queue stopped (lost the database?)',
      );
    process.stdout.write(`${signal}: letting go of runs in flight (other workers take them)\n`);
    await worker.stop();
    await online?.close();
    return 0;
  } finally {
    await store.close();
  }
}
