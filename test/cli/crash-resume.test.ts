import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { repoRoot } from '../support/cli.ts';
import { agentdUntilKilled, countEvents, prng } from '../support/kill-harness.ts';
import { tempDir } from '../support/temp-dir.ts';

const TURNS = 10;

function writeAgent(dir: string): string {
  writeFileSync(
    join(dir, 'tools.ts'),
    `import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineTool, z } from ${JSON.stringify(`${repoRoot}src/index.ts`)};
const effects = () => process.env.CRASH_EFFECTS!;
const pause = () => new Promise((r) => setTimeout(r, 15));
/** Counts once per call: records its key with the effect and skips a key it has seen. */
export const count = defineTool({
  name: 'count', description: 'count', input: z.object({}), checksIdempotencyKey: true,
  async execute(_, { idempotencyKey }) {
    await pause();
    const file = join(effects(), 'count.log');
    const seen = existsSync(file) ? readFileSync(file, 'utf8').split('\\n') : [];
    if (!seen.includes(idempotencyKey)) appendFileSync(file, idempotencyKey + '\\n');
    return 'counted';
  },
});
/**
 * Neither idempotent nor key-checked: every run of it is an effect. After its effect it says
 * so (held-<key>) and waits for the test to release it or kill the process, so a kill can land
 * exactly between the effect and its result.
 */
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
  const spec = join(dir, 'agent.yaml');
  writeFileSync(
    spec,
    'name: crashy\nmodel: scripted/crashy\nscript: script.yaml\ntools:\n  - module: tools.ts\n',
  );
  return spec;
}

async function readRun(
  home: string,
): Promise<{ id: string; status: string; events: RunEvent[] } | undefined> {
  if (!existsSync(join(home, 'agentd.db'))) return undefined;
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  try {
    const [run] = await store.listRuns({ limit: 1 });
    if (!run) return undefined;
    return { id: run.id, status: run.status, events: await store.readEvents(run.id) };
  } finally {
    await store.close();
  }
}

/** Kills to reach; AGENTD_CRASH_KILLS asks for more (a longer run on demand). */
const KILLS = Number(process.env.AGENTD_CRASH_KILLS ?? 60);

describe('crash and resume under SIGKILL', () => {
  it(`${KILLS}+ kills at seeded points after observed events: every run completes, nothing lost, doubled or repeated`, async () => {
    const dir = tempDir();
    const spec = writeAgent(dir);
    const random = prng(20261122);
    let kills = 0;
    let series = 0;
    let pausedForAttention = 0;
    let heldKills = 0;
    // Until enough kills landed, some of them between an unsafe call's effect and its result.
    while ((kills < KILLS || heldKills === 0 || pausedForAttention === 0) && series < 100) {
      series++;
      const home = join(dir, `home-${series}`);
      const effects = join(dir, `effects-${series}`);
      mkdirSync(effects, { recursive: true });
      const env = { AGENTD_HOME: home, CRASH_EFFECTS: effects };
      // bump calls held after their effect: each is released, or its process killed, once
      const decided = new Set<string>();
      let run: Awaited<ReturnType<typeof readRun>>;
      for (let attempt = 0; attempt < 60; attempt++) {
        run = await readRun(home);
        if (run?.status === 'completed') break;
        // a kill after 1 to 10 more durable events, or none (1 in 8)
        const atEvents =
          random() < 0.125 ? undefined : countEvents(home) + 1 + Math.floor(random() * 10);
        let killedHeld = false;
        const onLook = () => {
          for (const file of readdirSync(effects)) {
            if (!file.startsWith('held-') || decided.has(file)) continue;
            decided.add(file);
            if (random() < 0.25) {
              killedHeld = true;
              return true;
            }
            writeFileSync(join(effects, `release-${file.slice('held-'.length)}`), '');
          }
          return false;
        };
        const args = !run
          ? ['run', spec, 'count and bump']
          : run.status === 'needs_attention'
            ? ['runs', 'resume', run.id, '--skip-in-doubt']
            : ['runs', 'resume', run.id];
        if (run?.status === 'needs_attention') pausedForAttention++;
        const result = await agentdUntilKilled(args, env, { atEvents, onLook });
        if (result.killed) kills++;
        if (result.killed && killedHeld) heldKills++;
      }
      run = await readRun(home);
      expect(run?.status, `series ${series}`).toBe('completed');
      const events = run!.events;

      // nothing lost or duplicated: dense seqs, one response a turn, one result a call
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
      const turns = events.flatMap((e) => (e.type === 'model.response' ? [e.data.turn] : []));
      expect(turns).toEqual(Array.from({ length: TURNS + 1 }, (_, i) => i + 1));
      const calls = events.flatMap((e) => (e.type === 'tool.call' ? [e.data] : []));
      const results = events.flatMap((e) => (e.type === 'tool.result' ? [e.data] : []));
      expect(calls).toHaveLength(2 * TURNS);
      expect(results.map((r) => r.callId).sort()).toEqual(calls.map((c) => c.callId).sort());

      // the key-checked counter counted every call exactly once
      const counted = readFileSync(join(effects, 'count.log'), 'utf8').trim().split('\n');
      const countKeys = calls.filter((c) => c.name === 'count').map((c) => c.idempotencyKey);
      expect(counted.sort()).toEqual(countKeys.sort());

      // the unsafe tool never ran twice; its in-doubt calls were reported as such
      const bumped = existsSync(join(effects, 'bump.log'))
        ? readFileSync(join(effects, 'bump.log'), 'utf8').trim().split('\n').filter(Boolean)
        : [];
      expect(new Set(bumped).size).toBe(bumped.length);
      for (const call of calls.filter((c) => c.name === 'bump')) {
        const result = results.find((r) => r.callId === call.callId)!;
        if (!result.isError) expect(bumped).toContain(call.idempotencyKey);
        else expect(result.errorKind).toBe('in_doubt');
      }
    }
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    // a kill between an unsafe call's effect and its result paused the run for a person
    expect(heldKills).toBeGreaterThan(0);
    expect(pausedForAttention).toBeGreaterThan(0);
  }, 600_000);
});
