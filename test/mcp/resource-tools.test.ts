import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { SecretBox } from '../../src/config/secret-box.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { Registry } from '../../src/tools/registry/registry.ts';
import { originOf } from '../../src/tools/tool-origin.ts';
import { parseToolRef } from '../../src/tools/tool-ref.ts';
import { openToolset, type Toolset } from '../../src/tools/toolset.ts';
import { registryEntry } from '../support/registry-entry.ts';
import { tempDir } from '../support/temp-dir.ts';
import { bin, toolContext } from './support.ts';

const open: Toolset[] = [];
afterEach(async () => {
  for (const toolset of open.splice(0)) await toolset.close();
});

async function everythingToolset(refs: string[]): Promise<Toolset> {
  const home = tempDir();
  const config = loadConfig({ AGENTD_HOME: home });
  const store = new SqliteStore({ path: config.dbPath });
  await new Registry(store, SecretBox.forHome(home, {})).add(
    registryEntry('everything', {
      type: 'stdio',
      command: process.execPath,
      args: [bin('mcp-server-everything'), 'stdio'],
    }),
    {},
  );
  await store.close();
  const sources = refs.map((ref) => {
    const source = parseToolRef(ref);
    if (typeof source === 'string') throw new Error(source);
    return source;
  });
  const toolset = await openToolset({
    sources,
    specPath: join(home, 'agent.yaml'),
    connectors: {},
    config,
    cwd: home,
  });
  open.push(toolset);
  return toolset;
}

describe('resources offered to agents (resources:<server>)', () => {
  it('parses the reference and refuses a malformed one', () => {
    expect(parseToolRef('resources:everything')).toEqual({
      kind: 'resources',
      server: 'everything',
      ref: 'resources:everything',
    });
    expect(parseToolRef('resources:')).toMatch(/resources:server/);
  });

  it('gives the agent tools that list and read a real server’s resources', async () => {
    const toolset = await everythingToolset(['resources:everything', 'everything.echo']);
    expect(toolset.tools.map((t) => t.name).sort()).toEqual([
      'everything__echo',
      'everything__list_resources',
      'everything__read_resource',
    ]);
    const list = toolset.tools.find((t) => t.name === 'everything__list_resources')!;
    const read = toolset.tools.find((t) => t.name === 'everything__read_resource')!;
    expect(list.idempotent).toBe(true);
    expect(originOf(read)).toEqual({
      kind: 'mcp-stdio',
      server: 'everything',
      tool: 'resources:read',
    });

    const listed = String(await list.execute({}, toolContext()));
    expect(listed).toMatch(/^demo:\/\/resource\//m);
    expect(listed).toContain('template demo://resource/dynamic/text/{resourceId}');

    expect(read.validate({}).ok).toBe(false);
    const text = String(
      await read.execute({ uri: 'demo://resource/dynamic/text/3' }, toolContext()),
    );
    expect(text).toContain('3');
    await expect(read.execute({ uri: 'demo://nothing/here' }, toolContext())).rejects.toThrow();
    // The policy schema knows them too.
    expect(toolset.offered.map((o) => ('tool' in o.origin ? o.origin.tool : ''))).toEqual(
      expect.arrayContaining(['resources:list', 'resources:read']),
    );
  }, 30_000);

  it('names an unknown server in one line', async () => {
    await expect(everythingToolset(['resources:nowhere'])).rejects.toThrow(
      /no MCP server "nowhere" is registered/,
    );
  });
});
