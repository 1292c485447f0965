import { expect, it } from 'vitest';
import type { ToolRecord } from '../../src/store/store.ts';
import { describeStores } from './support/stores.ts';

const at = '2026-11-22T00:00:00.000Z';

function tool(server: string, name: string, description: string): ToolRecord {
  return { server, name, description, inputSchema: { type: 'object' }, listedAt: at };
}

describeStores('the registry', (kind) => {
  it('keeps servers with their sealed secrets, replaces and deletes them with their tools', async () => {
    const { store } = await kind.fresh();
    await store.putServer({
      name: 'fs',
      entry: { transport: { type: 'stdio' } },
      sealedSecrets: 'sealed:abc',
      createdAt: at,
      updatedAt: at,
    });
    await store.putServer({
      name: 'fs',
      entry: { transport: { type: 'http' } },
      sealedSecrets: null,
      createdAt: '2030-01-01T00:00:00.000Z',
      updatedAt: '2026-11-22T00:00:09.000Z',
    });
    expect(await store.getServer('fs')).toEqual({
      name: 'fs',
      entry: { transport: { type: 'http' } },
      sealedSecrets: null,
      createdAt: at,
      updatedAt: '2026-11-22T00:00:09.000Z',
    });
    await store.setServerTools('fs', [
      { ...tool('fs', 'read_file', 'Read a file'), annotations: { readOnlyHint: true } },
    ]);
    expect(await store.listServerTools('fs')).toEqual([
      { ...tool('fs', 'read_file', 'Read a file'), annotations: { readOnlyHint: true } },
    ]);
    expect(await store.deleteServer('fs')).toBe(true);
    expect(await store.deleteServer('fs')).toBe(false);
    expect(await store.listServers()).toEqual([]);
    expect(await store.listServerTools()).toEqual([]);
    expect(await store.searchTools('read', 5)).toEqual([]);
  });

  it('searches tool names (split into words) and descriptions by prefix, names weighing more', async () => {
    const { store } = await kind.fresh();
    for (const name of ['fs', 'web']) {
      await store.putServer({ name, entry: {}, sealedSecrets: null, createdAt: at, updatedAt: at });
    }
    await store.setServerTools('fs', [
      tool('fs', 'read_text_file', 'Open a document from disk'),
      tool('fs', 'listDirectory', 'Show entries of a folder'),
    ]);
    await store.setServerTools('web', [tool('web', 'fetch', 'Download a page and read it')]);
    const found = await store.searchTools('read', 5);
    expect(found.map((t) => t.name)).toEqual(['read_text_file', 'fetch']);
    expect(found[0]!.score).toBeGreaterThan(found[1]!.score);
    expect((await store.searchTools('direct', 5)).map((t) => t.name)).toEqual(['listDirectory']);
    expect((await store.searchTools('folder', 5)).map((t) => t.name)).toEqual(['listDirectory']);
    expect(await store.searchTools('"; drop --', 5)).toEqual([]);
    expect(await store.searchTools('zebra', 5)).toEqual([]);
    // setting a server's tools replaces them
    await store.setServerTools('fs', [tool('fs', 'write_file', 'Write a file')]);
    expect((await store.listServerTools()).map((t) => `${t.server}/${t.name}`)).toEqual([
      'fs/write_file',
      'web/fetch',
    ]);
  });
});
