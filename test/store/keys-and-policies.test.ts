import { expect, it } from 'vitest';
import { describeStores } from './support/stores.ts';

const at = '2026-11-22T00:00:00.000Z';

describeStores('API keys', (kind) => {
  it('finds a key by its hash, lists keys and revokes once', async () => {
    const { store } = await kind.fresh();
    await store.putApiKey({
      id: 'key_1',
      name: 'ci',
      hash: 'h1',
      scopes: ['runs:read'],
      createdAt: at,
    });
    await store.putApiKey({ id: 'key_2', name: 'ops', hash: 'h2', scopes: [], createdAt: at });
    await expect(
      store.putApiKey({ id: 'key_3', name: 'dup', hash: 'h1', scopes: [], createdAt: at }),
    ).rejects.toThrow();
    expect(await store.findApiKey('h1')).toEqual({
      id: 'key_1',
      name: 'ci',
      hash: 'h1',
      scopes: ['runs:read'],
      createdAt: at,
    });
    expect(await store.revokeApiKey('key_1', '2026-11-23T00:00:00.000Z')).toBe(true);
    expect(await store.revokeApiKey('key_1', '2026-11-24T00:00:00.000Z')).toBe(true);
    expect(await store.revokeApiKey('key_9', at)).toBe(false);
    expect((await store.findApiKey('h1'))?.revokedAt).toBe('2026-11-23T00:00:00.000Z');
    expect((await store.listApiKeys()).map((k) => k.id)).toEqual(['key_1', 'key_2']);
  });
});

describeStores('policy sets', (kind) => {
  it('saves numbered versions, the same files twice as one version, and activates one', async () => {
    const { store } = await kind.fresh();
    const v1 = await store.savePolicySet(
      'prod',
      [{ name: 'a.cedar', text: 'permit(principal, action, resource);' }],
      'd1',
      at,
    );
    expect(v1).toMatchObject({ name: 'prod', version: 1, digest: 'd1', active: false });
    expect((await store.savePolicySet('prod', [], 'd2', at)).version).toBe(2);
    expect((await store.savePolicySet('prod', [], 'd1', at)).version).toBe(1);
    expect((await store.savePolicySet('dev', [], 'd1', at)).version).toBe(1);
    expect(await store.getPolicySet('prod')).toBeUndefined();
    await store.activatePolicySet('prod', 2, at);
    expect((await store.getPolicySet('prod'))?.version).toBe(2);
    await store.activatePolicySet('prod', 1, at);
    expect(await store.getPolicySet('prod')).toEqual({ ...v1, active: true });
    expect((await store.listPolicySets()).map((s) => `${s.name}@${s.version}:${s.active}`)).toEqual(
      ['dev@1:false', 'prod@1:true', 'prod@2:false'],
    );
    await expect(store.activatePolicySet('prod', 7, at)).rejects.toThrow();
  });

  it('concurrent saves from several connections never take one version number twice', async () => {
    const { store, another } = await kind.fresh();
    const stores = [store, another(), another()];
    const saved = await Promise.all(
      Array.from({ length: 9 }, (_, i) => stores[i % 3]!.savePolicySet('p', [], `d${i}`, at)),
    );
    expect(saved.map((s) => s.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
