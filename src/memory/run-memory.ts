import { resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import type { RunEvent } from '../core/events.ts';
import type { Redactor } from '../core/redact.ts';
import type { AgentSpec } from '../definition/agent-spec.ts';
import type { AgentDefinition, RunOptions, RunResult } from '../runtime/agent-loop.ts';
import { openMemory } from './open.ts';
import { recallForRun } from './recall.ts';
import { sessionContext } from './session.ts';
import { ExtractionWorker, resolveExtractor, type WorkerReport } from './worker.ts';

/** Default budget of a session's earlier runs, for agents without `memory.session`. */
const defaultSessionTokens = 3000;

export interface RunMemory {
  /** What runAgent records and the model gets: actor, session, pinned context, recall. */
  runOptions: Pick<RunOptions, 'actor' | 'session' | 'context' | 'memory'>;
  /** Passes events through, queueing an extraction when compaction takes turns out. */
  watch(onEvent?: (event: RunEvent) => void): (event: RunEvent) => void;
  /** The run is over: queue the extraction of what it did not extract yet, and start on it. */
  finished(result: RunResult): Promise<void>;
  /** Works through the extraction queue (this run's and any left by earlier processes). */
  drain(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Memory around one run: the session so far and the memories recalled for its task before it
 * starts; extraction queued in the store (durable) when compaction takes turns out and when the
 * run ends, and done in the background by a worker. The run never waits for extraction; the
 * caller drains the queue before its process exits, and a queue left by a process that died
 * is worked through by the next one.
 */
export async function startRunMemory(options: {
  config: Config;
  spec: AgentSpec;
  agent: AgentDefinition;
  redact: Redactor;
  actor: string;
  sessionId?: string;
  task: string;
  signal?: AbortSignal;
  onNotice?: (notice: string) => void;
  onReport?: (report: WorkerReport) => void;
}): Promise<RunMemory> {
  const { config, spec, agent, actor } = options;
  const memory = await openMemory(config, { redact: options.redact });
  try {
    const specPath = resolve(spec.path);
    const extraction = spec.memory ? await resolveExtractor(spec, config) : {};
    if (extraction.notice) options.onNotice?.(extraction.notice);
    const session = options.sessionId
      ? await sessionContext({
          store: memory.store,
          actor,
          sessionId: options.sessionId,
          maxTokens: spec.memory?.session.maxTokens ?? defaultSessionTokens,
          model: agent.compaction?.model ?? agent.model,
          ...(options.signal ? { signal: options.signal } : {}),
        })
      : undefined;
    const recall = spec.memory
      ? await recallForRun(memory.bank, {
          task: options.task,
          actor,
          agent: spec.name,
          memory: spec.memory,
          ...(options.sessionId ? { sessionId: options.sessionId } : {}),
        })
      : undefined;
    if (recall?.record.note) options.onNotice?.(`memory: ${recall.record.note}`);
    const context = [session?.text, recall?.context].filter(Boolean).join('\n\n');
    const worker = new ExtractionWorker({
      store: memory.store,
      bank: memory.bank,
      config,
      extractors: { [specPath]: extraction },
      ...(options.onReport ? { onReport: options.onReport } : {}),
    });
    const extracts = Boolean(extraction.extractor);
    let extractedThrough = 0;
    const queue = async (runId: string, toSeq: number, reason: 'run_end' | 'compaction') => {
      if (!extracts || toSeq <= extractedThrough) return;
      await memory.store.memories.enqueueJob(
        { runId, fromSeq: extractedThrough, toSeq, reason, specPath },
        new Date().toISOString(),
      );
      extractedThrough = toSeq;
      worker.kick();
    };
    return {
      runOptions: {
        actor,
        ...(session ? { session: session.session } : {}),
        ...(context ? { context } : {}),
        ...(recall ? { memory: recall.record } : {}),
      },
      watch(onEvent) {
        return (event) => {
          onEvent?.(event);
          if (event.type === 'context.compacted' && event.data.removedEvents.length) {
            // The turns that left the context: extracted now, while the run goes on.
            void queue(event.runId, Math.max(...event.data.removedEvents), 'compaction').catch(
              () => undefined,
            );
          }
        };
      },
      async finished(result) {
        await queue(result.runId, result.state.lastSeq, 'run_end');
      },
      drain: () => worker.drain(),
      close: () => memory.close(),
    };
  } catch (error) {
    await memory.close();
    throw error;
  }
}

/**
 * After `agentd runs resume`: queues the extraction of what the run did since its last
 * queued extraction (its earlier jobs say how far that was), and works through the queue.
 */
export async function extractAfterResume(options: {
  config: Config;
  redact: Redactor;
  result: RunResult;
  specPath: string;
  onNotice?: (notice: string) => void;
  onReport?: (report: WorkerReport) => void;
}): Promise<void> {
  const memory = await openMemory(options.config, { redact: options.redact });
  try {
    const jobs = await memory.store.memories.listJobs({ runId: options.result.runId });
    const from = Math.max(0, ...jobs.map((job) => job.toSeq));
    const to = options.result.state.lastSeq;
    if (to > from) {
      await memory.store.memories.enqueueJob(
        {
          runId: options.result.runId,
          fromSeq: from,
          toSeq: to,
          reason: 'run_end',
          specPath: resolve(options.specPath),
        },
        new Date().toISOString(),
      );
    }
    const worker = new ExtractionWorker({
      store: memory.store,
      bank: memory.bank,
      config: options.config,
      ...(options.onReport ? { onReport: options.onReport } : {}),
    });
    await worker.drain();
  } finally {
    await memory.close();
  }
}
