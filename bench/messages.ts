import type { FrameworkName } from './frameworks/catalog.ts';
import type { WorkloadName } from './workloads.ts';

/** What the coordinator asks a worker process to do (over IPC). */
export type WorkerCommand =
  | { type: 'batch'; workload: WorkloadName; baseUrl: string; runs: number; concurrency: number }
  | {
      type: 'concurrent';
      workload: WorkloadName;
      /** One run goes here first (no latency, no barrier), so the idle figure is warm. */
      firstUrl: string;
      /** The runs are spread over these. */
      baseUrls: string[];
      runs: number;
    }
  | { type: 'profile'; workload: WorkloadName; baseUrl: string; runs: number; file: string }
  | { type: 'exit' };

export interface BatchResult {
  type: 'batch';
  /** Each run's time in ms, in order (sequential batches only). */
  times: number[];
  wallMs: number;
  /** The worker process's CPU time (user and system) over the batch, ms. */
  cpuMs: number;
  runs: number;
  /** Heap used after a full GC, before and after the batch. */
  heapBefore: number;
  heapAfter: number;
  failed: number;
  /** The first failures, for the log. */
  failures: string[];
}

export interface ConcurrentResult {
  type: 'concurrent';
  runs: number;
  wallMs: number;
  /** RSS with the framework loaded and one run done, before the concurrent runs start. */
  rssIdle: number;
  /** The process's peak RSS (getrusage maxrss). */
  rssPeak: number;
  /** Peak heap used, sampled every 50 ms. */
  heapPeak: number;
  failed: number;
  failures: string[];
}

export interface ProfileResult {
  type: 'profile';
  file: string;
  runs: number;
  wallMs: number;
}

export interface ReadyMessage {
  type: 'ready';
  framework: FrameworkName;
  /** ms from process start to the framework module loaded. */
  importMs: number;
}

export interface ErrorMessage {
  type: 'error';
  message: string;
}

export type WorkerReply =
  | BatchResult
  | ConcurrentResult
  | ProfileResult
  | ReadyMessage
  | ErrorMessage;
