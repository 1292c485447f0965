import { expect, it } from 'vitest';
import { createRedactor } from '../../src/core/redact.ts';
import { memory, started } from './support/records.ts';
import { describeStores } from './support/stores.ts';

const vector = (model: string, ...values: number[]) => ({
  model,
  values: new Float32Array(values),
});
const isGone = () => false;

describeStores('the memory store', (kind) => {
  it('adds, supersedes and finds memories by id, prefix, key and namespace', async () => {
    const { store } = await kind.fresh();
    const m = store.memories;
    await m.add(memory('mem_a1', { key: 'answer language', text: 'answers in French' }));
    await m.add(memory('mem_a2', { key: 'answer language', text: 'answers in German' }), {
      replaces: 'mem_a1',
    });
    await m.add(memory('mem_b', { namespace: '/agent/coder/notes', kind: 'episode' }));
    await expect(m.add(memory('mem_c'), { replaces: 'mem_a1' })).rejects.toThrow(
      'is not an active memory',
    );
    expect(await m.get('mem_a1')).toMatchObject({ status: 'superseded', supersededBy: 'mem_a2' });
    expect((await m.get('mem_b'))?.kind).toBe('episode');
    expect(await m.get('mem_a')).toBeUndefined();
    expect((await m.findByKey('/actor/ann/prefs', 'fact', 'answer language'))?.id).toBe('mem_a2');
    expect((await m.history('mem_a2')).map((x) => x.id)).toEqual(['mem_a2', 'mem_a1']);
    expect((await m.list()).map((x) => x.id).sort()).toEqual(['mem_a2', 'mem_b']);
    expect((await m.list({ namespaces: ['/actor/ann'] })).map((x) => x.id)).toEqual(['mem_a2']);
    expect((await m.list({ namespaces: ['/actor/an'] })).map((x) => x.id)).toEqual([]);
    expect(await m.list({ namespaces: [] })).toEqual([]);
    expect((await m.list({ kinds: ['episode'] })).map((x) => x.id)).toEqual(['mem_b']);
    expect((await m.list({ actor: 'ann' })).map((x) => x.id).sort()).toEqual(['mem_a2', 'mem_b']);
    expect((await m.list({ includeSuperseded: true })).length).toBe(3);
    expect((await m.exportActor('ann')).map((x) => x.id)).toEqual(['mem_a1', 'mem_a2', 'mem_b']);
  });

  it('searches the full text of active memories only, any of the words, best first', async () => {
    const { store } = await kind.fresh();
    const m = store.memories;
    await m.add(
      memory('mem_1', { text: 'The deploy command is make release', key: 'deploy command' }),
    );
    await m.add(memory('mem_2', { text: 'Deploys happen on Fridays' }));
    await m.add(memory('mem_3', { text: 'Coffee is served at nine' }));
    await m.add(memory('mem_4', { text: 'deploy to staging first' }), { replaces: 'mem_2' });
    const found = await m.searchText('how do I deploy?', {}, 10);
    expect(found.map((f) => f.memory.id)).toEqual(['mem_1', 'mem_4']);
    expect(found[0]!.score).toBeGreaterThan(found[1]!.score);
    expect(await m.searchText('"; DROP', {}, 10)).toEqual([]);
    expect(await m.searchText('a', {}, 10)).toEqual([]);
    expect(
      (await m.searchText('coffee nine', { kinds: ['fact'] }, 10)).map((f) => f.memory.id),
    ).toEqual(['mem_3']);
    expect(
      await m.searchText('coffee', { trustedOnly: true, namespaces: ['/team/x'] }, 10),
    ).toEqual([]);
  });

  it('keeps vectors with a change log the index replays, and forgets a memory with its versions', async () => {
    const { store } = await kind.fresh();
    const m = store.memories;
    await m.add(memory('mem_v1'), { vector: vector('e1', 1, 0) });
    await m.add(memory('mem_v2', { trust: 'untrusted' }));
    expect(await m.missingVectors('e1', 10)).toEqual([{ id: 'mem_v2', text: 'memory mem_v2' }]);
    await m.putVector('mem_v2', vector('e1', 0, 1));
    await m.putVector('mem_v2', vector('e2', 0.5, 0.5));
    expect(await m.vectorModelOf('mem_v2')).toBe('e2');
    expect(await m.vectorState('e1')).toMatchObject({ count: 1 });
    const changes = await m.vectorChanges('e1', 0, 10);
    expect(changes.map((c) => c.op)).toEqual(['add', 'remove', 'remove']);
    expect(changes[0]).toMatchObject({ op: 'add', namespace: '/actor/ann/prefs', trusted: true });
    expect([...changes[0]!.values!]).toEqual([1, 0]);
    const byLabel = await m.byLabels([changes[0]!.label]);
    expect(byLabel.map((x) => [x.id, x.label])).toEqual([['mem_v1', changes[0]!.label]]);
    await m.add(memory('mem_v3'), { replaces: 'mem_v1', vector: vector('e1', 0, 1) });
    expect((await m.forget('mem_v3')).sort()).toEqual(['mem_v1', 'mem_v3']);
    expect(await m.forget('mem_none')).toEqual([]);
    expect(await m.get('mem_v1')).toBeUndefined();
    expect((await m.vectorState('e1')).count).toBe(0);
    const after = await m.vectorChanges('e1', changes.at(-1)!.seq, 10);
    expect(after.every((c) => c.op === 'remove')).toBe(true);
  });

  it('records confirmations once per run, and redacts before writing', async () => {
    const secret = 'sk-test-0123456789abcdefghij';
    const { store } = await kind.fresh({ redact: createRedactor([secret]) });
    const m = store.memories;
    await m.addMany([
      { memory: memory('mem_r', { text: `the key is ${secret}` }) },
      { memory: memory('mem_s') },
    ]);
    expect((await m.get('mem_r'))?.text).toBe('the key is [redacted]');
    await m.confirm('mem_s', 'run_2', '2026-11-23T00:00:00.000Z');
    await m.confirm('mem_s', 'run_2', '2026-11-23T00:00:00.000Z');
    await m.confirm('mem_s', 'run_m', '2026-11-23T00:00:00.000Z');
    expect((await m.get('mem_s'))?.provenance.confirmedBy).toEqual(['run_2']);
  });

  it('queues extractions: one claimer per job, jobs of gone owners pending again, failures retried', async () => {
    const { store, another } = await kind.fresh();
    const m = store.memories;
    const at = '2026-11-22T00:00:00.000Z';
    const ids = [];
    for (let i = 0; i < 6; i++) {
      ids.push(
        await m.enqueueJob({ runId: `run_${i % 2}`, fromSeq: 0, toSeq: i, reason: 'run_end' }, at),
      );
    }
    const stores = [store, another(), another()];
    const claimed = await Promise.all(
      Array.from({ length: 9 }, (_, i) => stores[i % 3]!.memories.claimJob(`h:${i}`, at, isGone)),
    );
    const got = claimed.flatMap((job) => (job ? [job.id] : []));
    expect(got.sort((a, b) => a - b)).toEqual(ids);
    expect((await m.listJobs({ status: 'running' })).length).toBe(6);
    // the owners of every running job are gone: the next claim takes the oldest again
    const again = await m.claimJob('h:new', at, () => true, { runId: 'run_1' });
    expect(again).toMatchObject({ runId: 'run_1', status: 'running', attempts: 2 });
    await m.finishJob(again!.id, at, 'boom', 2);
    expect((await m.listJobs({ status: 'failed' })).map((j) => [j.id, j.error])).toEqual([
      [again!.id, 'boom'],
    ]);
    await m.finishJob(ids[0]!, at);
    expect((await m.listJobs({ status: 'done' })).map((j) => j.id)).toEqual([ids[0]]);
    expect((await m.listJobs({ runId: 'run_0' })).length).toBe(3);
  });

  it('lists the runs of a session, oldest first', async () => {
    const { store } = await kind.fresh();
    await store.append([started('run_s1', 't', { actor: 'ann', session: { id: 's1', runs: [] } })]);
    await store.append([started('run_s2', 't', { actor: 'ann', session: { id: 's1', runs: [] } })]);
    await store.append([started('run_o', 't', { actor: 'bob', session: { id: 's1', runs: [] } })]);
    expect(await store.memories.sessionRuns('ann', 's1')).toEqual(['run_s1', 'run_s2']);
  });
});
