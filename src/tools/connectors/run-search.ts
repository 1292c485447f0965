import { Worker } from 'node:worker_threads';
import { ownEntry } from '../../config/package-files.ts';
import { ConnectorError } from './connector-error.ts';
import type { SearchJob, SearchReply } from './search-worker.ts';
import type { TextSearchResult } from './text-search.ts';

/** Past the search's own time limit, how long before the worker is terminated. */
const graceMs = 2_000;

/**
 * Runs a text search in a worker thread and terminates it when the run is cancelled or it
 * overruns its time limit: a regular expression that backtracks without end (the agent
 * writes the pattern) then costs one worker, not agentd's event loop.
 */
export function runSearch(job: SearchJob, signal?: AbortSignal): Promise<TextSearchResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(ownEntry('src/tools/connectors/search-worker.ts'), {
      workerData: job,
    });
    const limitMs = job.search.timeMs + graceMs;
    let settled = false;
    const finish = (error: Error | undefined, result?: TextSearchResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (error) reject(error);
      else resolve(result!);
    };
    const timer = setTimeout(
      () =>
        finish(
          new ConnectorError(
            `search for "${job.search.pattern}" took longer than ${limitMs} ms and was stopped; simplify the pattern, pass literal: true or narrow the path`,
          ),
        ),
      limitMs,
    );
    const onAbort = () => finish(new ConnectorError('search was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: SearchReply) =>
      reply.ok ? finish(undefined, reply.result) : finish(new ConnectorError(reply.message)),
    );
    worker.once('error', (error) => finish(error));
    worker.once('exit', (code) =>
      finish(new Error(`search worker stopped unexpectedly (exit code ${code})`)),
    );
  });
}
