import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { agentdUntilKilled, countEvents, prng } from '../support/kill-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

const TURNS = 4;
/** Concurrent runs on one store; AGENTD_SOAK_RUNS and AGENTD_SOAK_KILLS ask for a longer soak. */
const RUNS = Number(process.env.AGENTD_SOAK_RUNS ?? 3);
const KILLS = Number(process.env.AGENTD_SOAK_KILLS ?? 6);

function writeAgent(dir: string): string {
  writeFileSync(
    join(dir, 'tools.ts'),
    `import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineTool, z } from ${JSON.stringify(`${repoRoot}src/index.ts`)};
const effects = () => process.env.SOAK_EFFECTS!;
export const count = defineTool({
  name: 'count', description: 'count', input: z.object({}), checksIdempotencyKey: true,
  async execute(_, { idempotencyKey }) {
    const file = join(effects(), 'count.log');
    const seen = existsSync(file) ? readFileSync(file, 'utf8').split('\\n') : [];
    if (!seen.includes(idempotencyKey)) appendFileSync(file, idempotencyKey + '\\n');
    return 'counted';
  },
});
export const bump = defineTool({
  name: 'bump', description: 'bump', input: z.object({}),
  async execute(_, { idempotencyKey }) {
    appendFileSync(join(effects(), 'bump.log'), idempotencyKey + '\\n');
    const key = idempotencyKey.replace(/[^\\w-]/g, '_');
    writeFileSync(join(effects(), 'held-' + key), '');
    while (!existsSync(join(effects(), 'release-' + key))) await new Promise((r) => setTimeout(r, 2));
    return 'bumped';
  },
});
`,
  );
  const turns = Array.from(
    { length: TURNS },
    (_, i) => `  - text: step ${i + 1}\n    tool_calls:\n      - name: count\n      - name: bump\n`,
  ).join('');
  writeFileSync(join(dir, 'script.yaml'), `turns:\n${turns}  - text: all done\n`);
  mkdirSync(join(dir, 'policies'));
  writeFileSync(
    join(dir, 'policies', 'soak.cedar'),
    '@id("counting")\npermit (principal, action in [Action::"count", Action::"bump"], resource);\n',
  );
  const spec = join(dir, 'agent.yaml');
  writeFileSync(
    spec,
    'name: soak\nmodel: scripted/soak\nscript: script.yaml\ntools:\n  - module: tools.ts\npolicy: { dir: ./policies }\n',
  );
  return spec;
}

async function runs(home: string) {
  if (!existsSync(join(home, 'agentd.db'))) return [];
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  try {
    const list = await store.listRuns({ limit: 100 });
    return await Promise.all(
      list.map(async (run) => ({ ...run, events: await store.readEvents(run.id) })),
    );
  } finally {
    await store.close();
  }
}

describe('crash soak: concurrent runs on one store under SIGKILL and SIGSTOP/SIGCONT', () => {
  it(`${RUNS} runs at a time, ${KILLS}+ kills at points chosen from observed events; every invariant holds after each round`, async () => {
    const dir = tempDir();
    const spec = writeAgent(dir);
    const home = join(dir, 'home');
    const random = prng(20261207);
    let kills = 0;
    let pauses = 0;
    let checks = 0;
    let started = 0;
    let rounds = 0;
    const effectsOf = (slot: number) => join(dir, `effects-${slot}`);
    for (let slot = 0; slot < RUNS; slot++) mkdirSync(effectsOf(slot));
    // each slot's run id once it has one (its effects folder is its own)
    const runOf: (string | undefined)[] = [];
    const decided = new Set<string>();
    while (rounds < 80) {
      rounds++;
      const all = await runs(home);
      const status = (slot: number) => all.find((r) => r.id === runOf[slot])?.status;
      const open = Array.from({ length: RUNS }, (_, slot) => slot).filter(
        (slot) => status(slot) !== 'completed',
      );
      if (open.length === 0 && kills >= KILLS) break;
      const base = countEvents(home);
      const work = open.length ? open : Array.from({ length: RUNS }, (_, slot) => slot);
      await Promise.all(
        work.map(async (slot) => {
          const effects = effectsOf(slot);
          const run = all.find((r) => r.id === runOf[slot]);
          const fresh = !run || run.status === 'completed';
          if (fresh) {
            // a new run for this slot once its last completed (more runs, more kills)
            started++;
          }
          const args = fresh
            ? ['run', spec, `soak ${slot}`]
            : run!.status === 'needs_attention'
              ? ['runs', 'resume', run!.id, '--skip-in-doubt']
              : ['runs', 'resume', run!.id];
          const roll = random();
          const atEvents = roll < 0.15 ? undefined : base + 2 + Math.floor(random() * 12);
          const pauseAt = roll < 0.4 ? base + 1 + Math.floor(random() * 6) : undefined;
          const onLook = () => {
            for (const file of readdirSync(effects)) {
              if (!file.startsWith('held-') || decided.has(`${slot}:${file}`)) continue;
              decided.add(`${slot}:${file}`);
              if (random() < 0.2) return true;
              writeFileSync(join(effects, `release-${file.slice('held-'.length)}`), '');
            }
            return false;
          };
          const before = new Set((await runs(home)).map((r) => r.id));
          const result = await agentdUntilKilled(
            args,
            { AGENTD_HOME: home, SOAK_EFFECTS: effects },
            {
              ...(atEvents !== undefined ? { atEvents } : {}),
              onLook,
              ...(pauseAt ? { pauseAt } : {}),
            },
          );
          if (result.killed) kills++;
          if (result.paused) pauses++;
          if (fresh) {
            const after = await runs(home);
            const mine = after.find(
              (r) =>
                !before.has(r.id) &&
                r.events[0]?.type === 'run.started' &&
                (r.events[0].data as { task: string }).task === `soak ${slot}`,
            );
            if (mine) runOf[slot] = mine.id;
          }
        }),
      );
      // invariants after each round, on every run in the store
      for (const run of await runs(home)) {
        const events = run.events;
        expect(
          events.map((e) => e.seq),
          run.id,
        ).toEqual(events.map((_, i) => i));
        const calls = events.flatMap((e) => (e.type === 'tool.call' ? [e.data] : []));
        const results = events.flatMap((e) => (e.type === 'tool.result' ? [e.data] : []));
        const answered = results.map((r) => r.callId);
        expect(new Set(answered).size, `${run.id}: a call answered twice`).toBe(answered.length);
        for (const id of answered) expect(calls.map((c) => c.callId)).toContain(id);
        if (run.status === 'completed') {
          expect(answered.sort()).toEqual(calls.map((c) => c.callId).sort());
          for (const call of calls.filter((c) => c.name === 'bump')) {
            const result = results.find((r) => r.callId === call.callId)!;
            if (result.isError) expect(result.errorKind).toBe('in_doubt');
          }
        }
        checks++;
      }
      const verify = await agentd(['audit', 'verify'], { home });
      expect(verify.code, verify.stderr).toBe(0);
      checks++;
    }
    // effects, per slot: the key-checked counter once a call, the unsafe tool never twice
    const all = await runs(home);
    for (let slot = 0; slot < RUNS; slot++) {
      const effects = effectsOf(slot);
      const mine = all.filter(
        (r) => (r.events[0]?.data as { task?: string } | undefined)?.task === `soak ${slot}`,
      );
      const counted = existsSync(join(effects, 'count.log'))
        ? readFileSync(join(effects, 'count.log'), 'utf8').trim().split('\n').filter(Boolean)
        : [];
      const keys = mine.flatMap((r) =>
        r.events.flatMap((e) =>
          e.type === 'tool.call' && e.data.name === 'count' ? [e.data.idempotencyKey] : [],
        ),
      );
      const ranKeys = new Set(
        mine.flatMap((r) =>
          r.events.flatMap((e) =>
            e.type === 'tool.result' && e.data.name === 'count' && !e.data.isError
              ? [e.data.callId]
              : [],
          ),
        ),
      );
      expect(new Set(counted).size, `slot ${slot}: counted twice`).toBe(counted.length);
      for (const key of counted) expect(keys).toContain(key);
      expect(counted.length).toBeGreaterThanOrEqual(ranKeys.size > 0 ? 1 : 0);
      const bumped = existsSync(join(effects, 'bump.log'))
        ? readFileSync(join(effects, 'bump.log'), 'utf8').trim().split('\n').filter(Boolean)
        : [];
      expect(new Set(bumped).size, `slot ${slot}: an unsafe call ran twice`).toBe(bumped.length);
      checks++;
    }
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    expect(pauses).toBeGreaterThan(0);
    expect(all.every((r) => r.status === 'completed')).toBe(true);
    console.log(
      `soak: ${rounds} rounds, ${started} runs, ${kills} kills, ${pauses} SIGSTOP/SIGCONT, ${checks} invariant checks, 0 violations`,
    );
  }, 600_000);
});
