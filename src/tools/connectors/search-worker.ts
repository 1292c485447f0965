import { parentPort, workerData } from 'node:worker_threads';
import { oneLine } from './connector-error.ts';
import { searchText, type TextSearch, type TextSearchResult } from './text-search.ts';

/** What run-search.ts sends the worker. */
export interface SearchJob {
  start: string;
  displayBase: string;
  search: TextSearch;
}

/** What the worker sends back. */
export type SearchReply = { ok: true; result: TextSearchResult } | { ok: false; message: string };

const job = workerData as SearchJob;
searchText(job.start, job.displayBase, job.search).then(
  (result) => parentPort?.postMessage({ ok: true, result } satisfies SearchReply),
  (error: unknown) =>
    parentPort?.postMessage({ ok: false, message: oneLine(error) } satisfies SearchReply),
);
