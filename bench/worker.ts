import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { frameworks, isFrameworkName } from './frameworks/catalog.ts';
import type { BenchAgent, Framework } from './frameworks/framework.ts';
import type {
  BatchResult,
  ConcurrentResult,
  ProfileResult,
  WorkerCommand,
  WorkerReply,
} from './messages.ts';
import { checkRun, nextTag } from './run-check.ts';
import { stepLimit, taskFor, type WorkloadName, workloads } from './workloads.ts';

/**
 * A process that hosts one framework and runs what the coordinator asks, one command at a
 * time, over IPC. Started fresh for the cold protocol and the concurrency test; kept alive
 * (and so warm) across rounds for the warm protocol.
 */
const name = process.argv[2] ?? '';
if (!isFrameworkName(name)) throw new Error(`unknown framework "${name}"`);
const framework: Framework = await frameworks[name].load();
const importMs = performance.now();
const agents = new Map<string, BenchAgent>();

function send(message: WorkerReply): void {
  process.send?.(message);
}

async function agentFor(workload: WorkloadName, baseUrl: string): Promise<BenchAgent> {
  let agent = agents.get(baseUrl);
  if (!agent) {
    agent = await framework.createAgent({ baseUrl, maxSteps: stepLimit(workloads[workload]) });
    agents.set(baseUrl, agent);
  }
  return agent;
}

/**
 * Lets pending timers and callbacks run (work a framework defers past the end of a run),
 * then full GCs until nothing more goes (weak references and finalizers can need more).
 */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  await new Promise((resolve) => setTimeout(resolve, 50));
  let before = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    gc();
    const used = process.memoryUsage().heapUsed;
    if (used >= before - 64 * 1024) break;
    before = used;
  }
}

/** An error with its causes (fetch says only "fetch failed"; the cause says why). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e !== undefined && depth < 4; depth++) {
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      parts.push(`${e.message}${typeof code === 'string' ? ` (${code})` : ''}`);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(': ');
}

/** One run, checked; returns its time in ms, or what went wrong. */
async function timedRun(agent: BenchAgent, workload: WorkloadName): Promise<number | string> {
  const tag = nextTag();
  const started = performance.now();
  let output: string;
  try {
    output = await agent.run(taskFor(tag));
  } catch (error) {
    return `run ${tag} threw: ${describe(error)}`;
  }
  const ms = performance.now() - started;
  return checkRun(workloads[workload], tag, output) ?? ms;
}

async function batch(command: Extract<WorkerCommand, { type: 'batch' }>): Promise<BatchResult> {
  const agent = await agentFor(command.workload, command.baseUrl);
  const times: number[] = [];
  const failures: string[] = [];
  await collect();
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const record = (outcome: number | string): void => {
    if (typeof outcome === 'number') times.push(outcome);
    else failures.push(outcome);
  };
  if (command.concurrency <= 1) {
    for (let i = 0; i < command.runs; i++) record(await timedRun(agent, command.workload));
  } else {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < command.runs) {
        next++;
        record(await timedRun(agent, command.workload));
      }
    };
    await Promise.all(Array.from({ length: command.concurrency }, lane));
  }
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  await collect();
  const heapAfter = process.memoryUsage().heapUsed;
  return {
    type: 'batch',
    times: command.concurrency <= 1 ? times : [],
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    runs: command.runs,
    heapBefore,
    heapAfter,
    failed: failures.length,
    failures: failures.slice(0, 3),
  };
}

async function concurrent(
  command: Extract<WorkerCommand, { type: 'concurrent' }>,
): Promise<ConcurrentResult> {
  // One agent per port of the fake model, the runs spread over them.
  const lanes: BenchAgent[] = [];
  for (const url of command.baseUrls) lanes.push(await agentFor(command.workload, url));
  // One run first, so the idle figure has everything loaded and initialised.
  const first = await timedRun(
    await agentFor(command.workload, command.firstUrl),
    command.workload,
  );
  const failures: string[] = typeof first === 'string' ? [first] : [];
  await collect();
  const rssIdle = process.memoryUsage().rss;
  let heapPeak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  }, 50);
  const started = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: command.runs }, (_, i) =>
      timedRun(lanes[i % lanes.length]!, command.workload),
    ),
  );
  const wallMs = performance.now() - started;
  clearInterval(sampler);
  for (const outcome of outcomes) if (typeof outcome === 'string') failures.push(outcome);
  return {
    type: 'concurrent',
    runs: command.runs,
    wallMs,
    rssIdle,
    rssPeak: process.resourceUsage().maxRSS * 1024,
    heapPeak,
    failed: failures.length,
    failures: failures.slice(0, 3),
  };
}

/** CPU profile of a sequential batch (the process is warmed up by earlier batches). */
async function profile(
  command: Extract<WorkerCommand, { type: 'profile' }>,
): Promise<ProfileResult> {
  const agent = await agentFor(command.workload, command.baseUrl);
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const started = performance.now();
  for (let i = 0; i < command.runs; i++) {
    const outcome = await timedRun(agent, command.workload);
    if (typeof outcome === 'string') throw new Error(outcome);
  }
  const wallMs = performance.now() - started;
  const { profile: data } = await session.post('Profiler.stop');
  session.disconnect();
  writeFileSync(command.file, JSON.stringify(data));
  return { type: 'profile', file: command.file, runs: command.runs, wallMs };
}

process.on('message', (command: WorkerCommand) => {
  const handle = async (): Promise<WorkerReply | undefined> => {
    switch (command.type) {
      case 'batch':
        return await batch(command);
      case 'concurrent':
        return await concurrent(command);
      case 'profile':
        return await profile(command);
      case 'exit':
        await framework.shutdown?.();
        process.disconnect?.();
        setImmediate(() => process.exit(0));
        return undefined;
    }
  };
  handle().then(
    (reply) => reply && send(reply),
    (error: unknown) =>
      send({
        type: 'error',
        message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      }),
  );
});

send({ type: 'ready', framework: name, importMs });
