import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

/** mulberry32: a small seeded PRNG, so the kill schedule is the same every time. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TURNS = 10;

function writeAgent(dir: string): string {
  writeFileSync(
    join(dir, 'tools.ts'),
    `import { appendFileSync, existsSync, readFileSync } from 'node:fs';
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
/** Neither idempotent nor key-checked: every run of it is an effect. */
export const bump = defineTool({
  name: 'bump', description: 'bump', input: z.object({}),
  async execute(_, { idempotencyKey }) {
    await pause();
    appendFileSync(join(effects(), 'bump.log'), idempotencyKey + '\\n');
    await pause();
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

/** Runs agentd; kills it with SIGKILL after `killAfterMs` unless it ends first. */
function agentdUntilKilled(args: string[], env: Record<string, string>, killAfterMs: number) {
  return new Promise<{ killed: boolean; code: number | null }>((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/agentd.js'), ...args], {
      env: { ...process.env, ...env, NO_COLOR: '1' },
      stdio: 'ignore',
    });
    let killed = false;
    const timer = setTimeout(() => {
      killed = child.kill('SIGKILL');
    }, killAfterMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ killed: killed && signal === 'SIGKILL', code });
    });
  });
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

describe('crash and resume under SIGKILL', () => {
  it('200+ kills at seeded random points: every run completes, nothing lost, doubled or repeated', async () => {
    const dir = tempDir();
    const spec = writeAgent(dir);
    const random = prng(20261122);
    let kills = 0;
    let series = 0;
    let pausedForAttention = 0;
    while (kills < 200) {
      series++;
      const home = join(dir, `home-${series}`);
      const effects = join(dir, `effects-${series}`);
      mkdirSync(effects, { recursive: true });
      const env = { AGENTD_HOME: home, CRASH_EFFECTS: effects };
      let run: Awaited<ReturnType<typeof readRun>>;
      for (let attempt = 0; attempt < 60; attempt++) {
        run = await readRun(home);
        if (run?.status === 'completed') break;
        // a kill somewhere between start-up and the end of the run, or no kill (1 in 8)
        const killAfter = random() < 0.125 ? 60_000 : 150 + random() * 500;
        const args = !run
          ? ['run', spec, 'count and bump']
          : run.status === 'needs_attention'
            ? ['runs', 'resume', run.id, '--skip-in-doubt']
            : ['runs', 'resume', run.id];
        if (run?.status === 'needs_attention') pausedForAttention++;
        const result = await agentdUntilKilled(args, env, killAfter);
        if (result.killed) kills++;
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
    expect(kills).toBeGreaterThanOrEqual(200);
    expect(pausedForAttention).toBeGreaterThan(0);
  }, 600_000);
});
