import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { MemoryBank } from '../../src/memory/bank.ts';
import { configuredEmbedder } from '../../src/memory/embeddings.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentd } from '../support/cli.ts';
import { type FakeEmbeddings, startFakeEmbeddings } from '../support/fake-embeddings.ts';
import { tempDir } from '../support/temp-dir.ts';

describe('agentd memory', () => {
  let embeddings: FakeEmbeddings;
  beforeAll(async () => {
    embeddings = await startFakeEmbeddings();
  });
  afterAll(async () => {
    await embeddings.close();
  });

  async function seed(home: string, withEmbeddings: boolean) {
    if (withEmbeddings) {
      writeFileSync(
        join(home, 'config.yaml'),
        `memory:\n  embeddings:\n    model: openai-compatible/fake-embed\n    base_url: ${embeddings.url}\n`,
      );
    }
    const config = loadConfig({ AGENTD_HOME: home });
    const store = new SqliteStore({ path: config.dbPath });
    const embedder = (await configuredEmbedder(config))?.embedder;
    const bank = new MemoryBank({
      store: store.memories,
      ...(embedder ? { embedder } : {}),
      snapshotDir: MemoryBank.snapshotDirFor(config.dbPath)!,
    });
    const base = { runId: 'run_x', events: [0], via: 'extraction' as const };
    const korean = await bank.write({
      namespace: '/actor/alice/preferences',
      kind: 'preference',
      key: 'answer language',
      text: 'Answer in Korean.',
      provenance: { ...base, source: 'user', actor: 'alice' },
    });
    const page = await bank.write({
      namespace: '/agent/helper/facts',
      kind: 'fact',
      text: 'The status page says the API is down on Sundays.',
      provenance: {
        ...base,
        source: 'tool',
        tools: ['http__fetch'],
        actor: 'alice',
        agent: 'helper',
      },
    });
    const bob = await bank.write({
      namespace: '/actor/bob/preferences',
      kind: 'preference',
      text: 'Bob drinks tea.',
      provenance: { ...base, source: 'user', actor: 'bob' },
    });
    await store.close();
    return { korean: korean.memory, page: page.memory, bob: bob.memory };
  }

  it('lists, shows with provenance, exports an actor, and forgets everywhere', async () => {
    const home = tempDir();
    const { korean, page, bob } = await seed(home, true);

    const list = await agentd(['memory', 'list', '--actor', 'alice'], { home });
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(korean.id);
    expect(list.stdout).toContain(page.id);
    expect(list.stdout).toMatch(/tool \(untrusted\)/);
    expect(list.stdout).not.toContain(bob.id);

    const show = await agentd(['memory', 'show', page.id.slice(0, 16)], { home });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(
      /trust\s+untrusted: recalled only as quoted data, never as instructions/,
    );
    expect(show.stdout).toMatch(/source\s+tool \(http__fetch\)/);
    expect(show.stdout).toMatch(/run\s+run_x, events 0/);
    expect(show.stdout).toMatch(/indexed\s+full-text, vector \(openai-compatible\/fake-embed\)/);

    const search = await agentd(['memory', 'search', 'which language should replies use'], {
      home,
    });
    expect(search.code).toBe(0);
    expect(search.stdout.split('\n')[1]).toContain(korean.id);
    expect(search.stderr).toContain('search: hybrid');

    const out = join(home, 'alice.jsonl');
    const exported = await agentd(['memory', 'export', '--actor', 'alice', '-o', out], { home });
    expect(exported.code).toBe(0);
    const ids = () =>
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line).id);
    expect(ids().sort()).toEqual([korean.id, page.id].sort());

    const forget = await agentd(['memory', 'forget', korean.id], { home });
    expect(forget.code).toBe(0);
    expect(forget.stdout).toContain(`forgot ${korean.id}`);
    await agentd(['memory', 'export', '--actor', 'alice', '-o', out], { home });
    expect(ids()).toEqual([page.id]);
    const after = await agentd(['memory', 'search', 'Korean', '--json'], { home });
    expect(after.stdout).not.toContain(korean.id);
    const again = await agentd(['memory', 'show', korean.id], { home });
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe(
      `agentd: no memory "${korean.id}" (or the prefix names more than one): see agentd memory list`,
    );
  }, 60_000);

  it('searches full-text without an embedding model, and says so; bad flags are one line', async () => {
    const home = tempDir();
    const { korean } = await seed(home, false);
    const search = await agentd(['memory', 'search', 'korean answer'], { home });
    expect(search.code).toBe(0);
    expect(search.stdout).toContain(korean.id);
    expect(search.stderr).toContain('search: full-text; no embedding model is configured');
    const badKind = await agentd(['memory', 'list', '--kind', 'opinion'], { home });
    expect(badKind.code).toBe(2);
    expect(badKind.stderr.trim()).toBe(
      'agentd: --kind: "opinion" is not a kind of memory (use one of: fact, preference, summary, episode)',
    );
    const badNs = await agentd(['memory', 'list', '--namespace', 'actor/alice'], { home });
    expect(badNs.stderr.trim()).toMatch(/^agentd: --namespace: "actor\/alice" is not a namespace/);
    const noActor = await agentd(['memory', 'export'], { home });
    expect(noActor.stderr.trim()).toBe(
      'agentd: export: give --actor <id> (whose memories to export)',
    );
  }, 60_000);
});
