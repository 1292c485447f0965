import { expect, it } from 'vitest';
import { createRedactor } from '../../src/core/redact.ts';
import { DuplicateEventError } from '../../src/store/store.ts';
import { finished, request, started } from './support/records.ts';
import { describeStores } from './support/stores.ts';

describeStores('the run log', (kind) => {
  for (const durability of ['process', 'machine'] as const) {
    it(`appends and reads back events in order, and lists runs with their status from the log (durability ${durability})`, async () => {
      const { store } = await kind.fresh({ durability });
      await store.append([started('run_1'), request('run_1', 1)]);
      await store.append([finished('run_1', 2)]);
      await store.append([started('run_2')]);
      const events = await store.readEvents('run_1');
      expect(events.map((e) => [e.seq, e.type])).toEqual([
        [0, 'run.started'],
        [1, 'model.request'],
        [2, 'run.finished'],
      ]);
      expect(events[1]).toEqual(request('run_1', 1));
      expect(await store.readEvents('run_1', { afterSeq: 1 })).toHaveLength(1);
      expect(await store.readEvents('run_1', { limit: 2 })).toHaveLength(2);
      const runs = await store.listRuns();
      expect(runs.map((r) => [r.id, r.status])).toEqual([
        ['run_2', 'running'],
        ['run_1', 'completed'],
      ]);
      expect(runs[1]).toMatchObject({
        agent: 'a',
        model: 'scripted/x',
        task: 'task',
        turns: 1,
        costUsd: 0.5,
        finishedAt: '2026-11-22T00:00:02.000Z',
      });
      expect(await store.listRuns({ status: 'completed' })).toHaveLength(1);
      expect(await store.listRuns({ limit: 1 })).toHaveLength(1);
    });

    it(`keeps interleaved runs apart (durability ${durability})`, async () => {
      const { store } = await kind.fresh({ durability });
      await Promise.all([store.append([started('run_a')]), store.append([started('run_b')])]);
      await Promise.all(
        [1, 2, 3].flatMap((seq) => [
          store.append([request('run_a', seq)]),
          store.append([request('run_b', seq)]),
        ]),
      );
      for (const id of ['run_a', 'run_b']) {
        const events = await store.readEvents(id);
        expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
        expect(events.every((e) => e.runId === id)).toBe(true);
      }
    });
  }

  it('refuses a duplicate (runId, seq) and keeps the batch all-or-nothing', async () => {
    const { store } = await kind.fresh();
    await store.append([started('run_1')]);
    const refused = store.append([request('run_1', 1), request('run_1', 0)]);
    await expect(refused).rejects.toBeInstanceOf(DuplicateEventError);
    await expect(refused).rejects.toThrow('event run_1#0 is already in the log');
    expect(await store.readEvents('run_1')).toHaveLength(1);
  });

  it('a duplicate from another connection is refused too: two writers never share a seq', async () => {
    const { store, another } = await kind.fresh();
    const other = another();
    await store.append([started('run_1')]);
    const results = await Promise.allSettled([
      store.append([request('run_1', 1)]),
      other.append([request('run_1', 1)]),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(failed.reason).toBeInstanceOf(DuplicateEventError);
    expect(await other.readEvents('run_1')).toHaveLength(2);
  });

  it('finds a run by a unique id prefix only (LIKE characters are literal)', async () => {
    const { store } = await kind.fresh();
    await store.append([started('run_abc1')]);
    await store.append([started('run_abc2')]);
    await store.append([started('run_xyz')]);
    expect((await store.getRun('run_x'))?.id).toBe('run_xyz');
    expect(await store.getRun('run_abc')).toBeUndefined();
    expect((await store.getRun('run_abc2'))?.id).toBe('run_abc2');
    expect(await store.getRun('run_%')).toBeUndefined();
    expect(await store.getRun('run__yz')).toBeUndefined();
  });

  it('takes a run status from its last status event, and links child runs to parents', async () => {
    const { store } = await kind.fresh();
    await store.append([started('run_p')]);
    await store.append([started('run_c', 'sub', { parentRunId: 'run_p' })]);
    await store.append([
      {
        runId: 'run_p',
        seq: 1,
        at: '2026-11-22T00:00:03.000Z',
        type: 'run.needs_attention',
        data: { calls: [], message: 'look' },
      } as never,
    ]);
    expect((await store.getRun('run_p'))?.status).toBe('needs_attention');
    expect((await store.getRun('run_c'))?.parentRunId).toBe('run_p');
    expect(await store.listRuns({ status: 'needs_attention' })).toHaveLength(1);
  });

  it('redacts secrets before they are written', async () => {
    const secret = 'sk-test-0123456789abcdefghij';
    const { store } = await kind.fresh({ redact: createRedactor([secret]) });
    await store.append([
      started('run_1', `use the key ${secret} and sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA`),
    ]);
    const [event] = await store.readEvents('run_1');
    expect(JSON.stringify(event)).not.toContain(secret);
    expect(JSON.stringify(event)).not.toContain('sk-ant-api03');
    expect((await store.getRun('run_1'))?.task).toBe('use the key [redacted] and [redacted]');
  });

  it('reopens with everything kept', async () => {
    const { store, another } = await kind.fresh();
    await store.append([started('run_1'), request('run_1', 1)]);
    await store.close();
    expect(await another().readEvents('run_1')).toHaveLength(2);
  });
});
