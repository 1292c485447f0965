// A claimer in its own thread with its own connection to the store. For each round it is
// sent, it waits for every worker to be ready (a shared barrier), claims tasks until none is
// left, and reports what it got.
import { parentPort, workerData } from 'node:worker_threads';
import { openSpec, type StoreSpec } from './store-spec.ts';

const { spec, member, workers } = workerData as {
  spec: StoreSpec;
  member: string;
  workers: number;
};
const store = openSpec(spec);

parentPort!.on(
  'message',
  async (round: { teamId: string; barrier: SharedArrayBuffer } | 'stop') => {
    if (round === 'stop') {
      await store.close();
      parentPort!.close();
      return;
    }
    const ready = new Int32Array(round.barrier);
    Atomics.add(ready, 0, 1);
    while (Atomics.load(ready, 0) < workers) Atomics.wait(ready, 0, Atomics.load(ready, 0), 5);
    const claimed: string[] = [];
    for (;;) {
      const task = await store.teams.claimTask(
        round.teamId,
        { member, names: [member, 'worker'], status: 'claimed' },
        new Date().toISOString(),
      );
      if (!task) break;
      claimed.push(task.id);
    }
    parentPort!.postMessage(claimed);
  },
);
parentPort!.postMessage('ready');
