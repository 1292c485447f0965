import { expect, it } from 'vitest';
import { LeaseLostError } from '../../src/store/store.ts';
import { request, started } from './support/records.ts';
import { describeStores } from './support/stores.ts';

const at = '2026-11-22T00:00:00.000Z';

describeStores('run leases', (kind) => {
  it('claims a free lease once, renews and releases only as its owner', async () => {
    const { store } = await kind.fresh();
    await store.append([started('run_1')]);
    const lease = await store.claimLease('run_1', 'h:1', null, at);
    expect(lease).toEqual({ runId: 'run_1', owner: 'h:1', heartbeatAt: at, generation: 1 });
    expect(await store.claimLease('run_1', 'h:2', null, at)).toBeUndefined();
    expect(await store.renewLease('run_1', 'h:2', '2026-11-22T00:01:00.000Z')).toBe(false);
    expect(await store.renewLease('run_1', 'h:1', '2026-11-22T00:01:00.000Z')).toBe(true);
    expect((await store.getLease('run_1'))?.heartbeatAt).toBe('2026-11-22T00:01:00.000Z');
    await store.releaseLease('run_1', 'h:2');
    expect((await store.listLeases()).map((l) => l.owner)).toEqual(['h:1']);
    await store.releaseLease('run_1', 'h:1');
    expect(await store.getLease('run_1')).toBeUndefined();
    expect(await store.listLeases()).toEqual([]);
  });

  it('moves the generation on with every claim, across releases, and takes over only from the owner expected', async () => {
    const { store } = await kind.fresh();
    await store.append([started('run_1')]);
    expect((await store.claimLease('run_1', 'h:1', null, at))?.generation).toBe(1);
    expect(await store.claimLease('run_1', 'h:3', 'h:2', at)).toBeUndefined();
    expect((await store.claimLease('run_1', 'h:2', 'h:1', at))?.generation).toBe(2);
    await store.releaseLease('run_1', 'h:2');
    expect((await store.claimLease('run_1', 'h:1', null, at))?.generation).toBe(3);
  });

  it('of many processes claiming one lease at once, exactly one gets it', async () => {
    const { store, another } = await kind.fresh();
    await store.append([started('run_1')]);
    const stores = [store, another(), another()];
    const got = await Promise.all(
      stores.flatMap((s, i) => [0, 1].map((j) => s.claimLease('run_1', `h:${i}${j}`, null, at))),
    );
    expect(got.filter(Boolean)).toHaveLength(1);
  });

  it('fences appends: an owner that lost the lease cannot append, the new owner can', async () => {
    const { store, another } = await kind.fresh();
    const stopped = another();
    await store.append([started('run_1')]);
    const first = (await stopped.claimLease('run_1', 'h:old', null, at))!;
    await stopped.append([request('run_1', 1)], first);
    // the old owner stops renewing; another process takes the run over
    const second = (await store.claimLease('run_1', 'h:new', 'h:old', at))!;
    await expect(stopped.append([request('run_1', 2)], first)).rejects.toBeInstanceOf(
      LeaseLostError,
    );
    await store.append([request('run_1', 2)], second);
    // released and taken again by the old owner's name: the old generation stays fenced out
    await store.releaseLease('run_1', 'h:new');
    await expect(stopped.append([request('run_1', 3)], first)).rejects.toThrow(
      'no longer leased to h:old at generation 1',
    );
    expect((await store.readEvents('run_1')).map((e) => e.seq)).toEqual([0, 1, 2]);
  });
});
