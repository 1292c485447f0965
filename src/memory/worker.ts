import { hostname } from 'node:os';
import { relative } from 'node:path';
import type { Config } from '../config/config.ts';
import { errorMessage, isAgentdError } from '../core/errors.ts';
import type { ExtractionJob } from '../core/memory.ts';
import { type AgentSpec, loadAgentSpec } from '../definition/agent-spec.ts';
import type { MemorySpec } from '../definition/memory-spec.ts';
import type { Model } from '../models/model.ts';
import { resolveModel } from '../models/providers.ts';
import type { Store } from '../store/store.ts';
import type { MemoryBank } from './bank.ts';
import { type ExtractionReport, extractMemories } from './extraction.ts';
import { loadExtractionScript, ScriptedExtractor } from './scripted-extractor.ts';

const thisProcess = `${hostname()}:${process.pid}`;

/** What extracts a spec's memories: its model and its memory settings. */
export interface Extractor {
  model: Model;
  memory: MemorySpec;
  agent: string;
}

/**
 * The extraction model of a spec: memory.extraction.model, else the agent's own model; the
 * scripted extractor for scripted/* or, with memory.extraction.script, when the model's key is
 * missing (said in the notice). Undefined with a notice when extraction cannot run.
 */
export async function resolveExtractor(
  spec: AgentSpec,
  config: Config,
): Promise<{ extractor?: Extractor; notice?: string }> {
  const memory = spec.memory;
  if (!memory?.extraction.enabled || Object.keys(memory.strategies).length === 0) return {};
  const ref = memory.extraction.model ?? `${spec.provider}/${spec.modelId}`;
  const slash = ref.indexOf('/');
  const provider = ref.slice(0, slash) as AgentSpec['provider'];
  const script = memory.extraction.script;
  const scripted = (notice?: string) => ({
    extractor: {
      model: new ScriptedExtractor(ref.slice(slash + 1), loadExtractionScript(script!)),
      memory,
      agent: spec.name,
    },
    ...(notice ? { notice } : {}),
  });
  if (provider === 'scripted') {
    if (script) return scripted();
    return {
      notice: `${spec.path}: memory extraction is off: the scripted replay cannot extract memories (give memory.extraction.script, or memory.extraction.model)`,
    };
  }
  try {
    const { script: _, ...hosted } = spec;
    const resolved = await resolveModel(
      { ...hosted, provider, modelId: ref.slice(slash + 1), settings: {} },
      config,
    );
    return { extractor: { model: resolved.model, memory, agent: spec.name } };
  } catch (error) {
    if (!isAgentdError(error)) throw error;
    if (script) {
      return scripted(
        `memory extraction replays ${relative(process.cwd(), script)} instead of calling ${ref}: ${errorMessage(error)}`,
      );
    }
    return { notice: `memory extraction is off for now: ${errorMessage(error)}` };
  }
}

/** Whether the process that claimed a job is gone (on this machine: its pid is not running). */
function ownerIsGone(owner: string): boolean {
  const colon = owner.lastIndexOf(':');
  const host = owner.slice(0, colon);
  const pid = Number(owner.slice(colon + 1));
  if (host !== hostname() || !Number.isInteger(pid)) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'EPERM';
  }
}

export interface WorkerReport {
  job: ExtractionJob;
  report?: ExtractionReport;
  error?: string;
}

/**
 * Works through the queue of extractions in the store, one at a time, in the background: the
 * jobs this process queued and any a process that died left (their spec is loaded again to
 * find the extraction model). A failed job is retried up to three times, then left failed
 * with its error in the queue.
 */
export class ExtractionWorker {
  readonly #store: Store;
  readonly #bank: MemoryBank;
  readonly #config: Config;
  readonly #known = new Map<string, Promise<{ extractor?: Extractor; notice?: string }>>();
  readonly #onReport: ((report: WorkerReport) => void) | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(options: {
    store: Store;
    bank: MemoryBank;
    config: Config;
    /** The extractor of specs already resolved, by absolute spec path. */
    extractors?: Record<string, { extractor?: Extractor; notice?: string }>;
    onReport?: (report: WorkerReport) => void;
  }) {
    this.#store = options.store;
    this.#bank = options.bank;
    this.#config = options.config;
    this.#onReport = options.onReport;
    for (const [path, resolved] of Object.entries(options.extractors ?? {})) {
      this.#known.set(path, Promise.resolve(resolved));
    }
  }

  /** Starts working through the queue, unless it already is; returns at once. */
  kick(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  /** Works through every pending job; resolves when the queue is empty. */
  async drain(): Promise<void> {
    this.kick();
    while (this.#running) await this.#running;
  }

  async #loop(): Promise<void> {
    for (;;) {
      const job = await this.#store.memories.claimJob(
        thisProcess,
        new Date().toISOString(),
        ownerIsGone,
      );
      if (!job) return;
      try {
        const report = await this.#process(job);
        await this.#store.memories.finishJob(job.id, new Date().toISOString());
        this.#onReport?.({ job, report });
      } catch (error) {
        const message = errorMessage(error);
        await this.#store.memories.finishJob(job.id, new Date().toISOString(), message);
        this.#onReport?.({ job, error: message });
      }
    }
  }

  async #process(job: ExtractionJob): Promise<ExtractionReport> {
    const events = await this.#store.readEvents(job.runId);
    const started = events[0];
    if (started?.type !== 'run.started') throw new Error(`run ${job.runId} has no events`);
    const specPath = job.specPath ?? started.data.specPath;
    if (!specPath) throw new Error(`run ${job.runId} has no spec to take memory settings from`);
    let resolving = this.#known.get(specPath);
    if (!resolving) {
      resolving = resolveExtractor(loadAgentSpec(specPath), this.#config);
      this.#known.set(specPath, resolving);
    }
    const { extractor, notice } = await resolving;
    if (!extractor) throw new Error(notice ?? `${specPath} has no memory extraction`);
    const actor = started.data.actor ?? 'default';
    return await extractMemories(events, job, {
      bank: this.#bank,
      model: extractor.model,
      memory: extractor.memory,
      agent: started.data.agent,
      actor,
      sessionId: started.data.session?.id ?? job.runId,
      runId: job.runId,
    });
  }
}
