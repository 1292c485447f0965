import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { MemoryBank, type SearchMode } from '../../src/memory/bank.ts';
import { configuredEmbedder } from '../../src/memory/embeddings.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { type FakeEmbeddings, startFakeEmbeddings } from '../support/fake-embeddings.ts';
import { tempDir } from '../support/temp-dir.ts';

/** A small labelled set: memories, and queries with the memories that answer them. */
const memories: Record<string, string> = {
  deploy: 'The service deploys with make release on Fridays.',
  rollout: 'Rollouts to production need an approval from Dana.',
  err4471: 'Error ERR_4471 means the license server is unreachable.',
  staging: 'The staging database is Postgres 17 on db-staging-2.',
  vitest: 'Tests run with vitest; the slow suite is test:e2e.',
  legacy: 'Never touch the legacy folder; it is frozen.',
  korean: 'The user prefers answers in Korean.',
  brief: 'Keep replies brief: three sentences at most.',
  coffee: 'The coffee machine on floor 3 is broken.',
  budget: 'Budget for cloud spend is 4000 USD a month.',
  standup: 'The weekly standup is on Mondays at 10:00.',
  pay2291: 'Ticket PAY-2291 tracks the flaky payment webhook.',
  latency: 'The API latency target is 200 ms at p95.',
  cats: 'Cats are allowed in the office on Fridays.',
  forecast: 'The forecast service caches weather data for an hour.',
  sqlite: 'Use sqlite for local development, postgres in production.',
  oom: 'The build crashes when NODE_OPTIONS sets a 512 MB heap.',
  npm: 'Publishing the npm package is done by the release bot.',
  japanese: 'Answers to Jun should be in Japanese.',
  adr: 'The docs/adr directory holds architecture decisions.',
  lunch: 'Lunch is ordered from the place across the street.',
  vpn: 'The VPN config lives in the shared drive under infra.',
  onboarding: 'New hires get a laptop on their first day.',
  holidays: 'The office is closed between Christmas and New Year.',
  err500: 'A 502 error from the gateway usually means the pod restarted.',
  ticket: 'Ticket OPS-1180 asks for a second build runner.',
  heap: 'Raise the heap to 2048 MB for the indexer job.',
  ports: 'The admin UI listens on port 8443, the API on 8080.',
  release2: 'Release 2.4 adds SSO; release 2.5 adds audit export.',
  invoices: 'Invoices over 10000 USD need two signatures.',
  ops1181: 'OPS-1181 was closed as a duplicate of OPS-1180.',
  err4470: 'ERR_4470 is logged when a token expires; it is harmless.',
  pay2290: 'PAY-2290 moved the webhook retries to 5 attempts.',
  v31: 'Version 3.1 drops Node 18.',
  room: 'Room 4.12 has the good projector.',
  phone: 'The on-call phone number is +1 555 0100.',
  disk: 'The CI runners have 200 GB disks.',
  tz: 'Servers run in UTC+0; the team is in UTC+9.',
  cron: 'The nightly job runs at 02:30 and takes 40 minutes.',
  quota: 'The S3 quota is 5 TB per bucket.',
};

const queries: { query: string; relevant: string[] }[] = [
  { query: 'how do we ship to production', relevant: ['deploy', 'rollout'] },
  { query: 'ERR_4471', relevant: ['err4471'] },
  { query: 'which language should replies use', relevant: ['korean'] },
  { query: 'staging database', relevant: ['staging'] },
  { query: 'what is forbidden in the old directory', relevant: ['legacy'] },
  { query: 'PAY-2291', relevant: ['pay2291'] },
  { query: 'when is the team meeting', relevant: ['standup'] },
  { query: 'how much money can we spend on cloud', relevant: ['budget'] },
  { query: 'slow response times', relevant: ['latency'] },
  { query: 'unit test runner', relevant: ['vitest'] },
  { query: 'pets at work', relevant: ['cats'] },
  { query: 'NODE_OPTIONS crash', relevant: ['oom'] },
];

describe('recall quality on a labelled set', () => {
  let embeddings: FakeEmbeddings;
  beforeAll(async () => {
    embeddings = await startFakeEmbeddings();
  });
  afterAll(async () => {
    await embeddings.close();
  });

  it('reports recall@5 for full-text, vector and hybrid; hybrid is not worse than the better of the two', async () => {
    const home = tempDir();
    writeFileSync(
      join(home, 'config.yaml'),
      `memory:\n  embeddings:\n    model: openai-compatible/fake-embed\n    base_url: ${embeddings.url}\n`,
    );
    const config = loadConfig({ AGENTD_HOME: home });
    const store = new SqliteStore({ path: config.dbPath });
    const embedder = (await configuredEmbedder(config))!.embedder;
    const bank = new MemoryBank({ store: store.memories, embedder });
    const idOf = new Map<string, string>();
    for (const [label, text] of Object.entries(memories)) {
      const written = await bank.write({
        namespace: '/team/platform/facts',
        kind: 'fact',
        text,
        provenance: { events: [], source: 'user', via: 'tool' },
      });
      idOf.set(written.memory.id, label);
    }
    const recallAt5 = async (mode: SearchMode) => {
      let total = 0;
      const perQuery: number[] = [];
      for (const { query, relevant } of queries) {
        const found = await bank.search(query, {}, 5, mode);
        expect(found.mode).toBe(mode);
        const labels = new Set(found.memories.map((m) => idOf.get(m.memory.id)));
        const hit = relevant.filter((r) => labels.has(r)).length / relevant.length;
        perQuery.push(hit);
        total += hit;
      }
      return { mean: total / queries.length, perQuery };
    };
    const text = await recallAt5('full-text');
    const vector = await recallAt5('vector');
    const hybrid = await recallAt5('hybrid');
    const table = [
      `recall@5 over ${queries.length} queries, ${Object.keys(memories).length} memories`,
      '| search | recall@5 |',
      '| --- | ---: |',
      `| full-text (FTS5 BM25) | ${text.mean.toFixed(3)} |`,
      `| vector (HNSW) | ${vector.mean.toFixed(3)} |`,
      `| hybrid (RRF) | ${hybrid.mean.toFixed(3)} |`,
    ].join('\n');
    console.log(table);
    // Each search misses what only the other finds: a real set for fusion.
    expect(text.mean).toBeLessThan(1);
    expect(vector.mean).toBeLessThan(1);
    expect(hybrid.mean).toBeGreaterThanOrEqual(Math.max(text.mean, vector.mean));
    await store.close();
  });
});
