// Opens the store in its own thread, with its own connection, once every thread is ready (a
// shared barrier), so that all of them open a new store at the same moment.
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';

const { path, barrier, threads } = workerData as {
  path: string;
  barrier: SharedArrayBuffer;
  threads: number;
};
const ready = new Int32Array(barrier);
Atomics.add(ready, 0, 1);
while (Atomics.load(ready, 0) < threads) Atomics.wait(ready, 0, Atomics.load(ready, 0), 5);
try {
  const store = new SqliteStore({ path });
  const runs = await store.listRuns();
  await store.close();
  parentPort!.postMessage({ ok: true, runs: runs.length });
} catch (error) {
  parentPort!.postMessage({ ok: false, message: (error as Error).message });
}
