import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { verifyAudit } from '../../src/core/audit.ts';
import type { RunEvent } from '../../src/core/events.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { agentdUntilKilled, type KillOutcome } from '../support/kill-harness.ts';

/** The soak's tools, reading their effects folder from `SOAK_EFFECTS`. */
export function writeSoakTools(dir: string): void {
  writeFileSync(
    join(dir, 'tools.ts'),
    `import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineTool, z } from ${JSON.stringify(`${repoRoot}src/index.ts`)};
const at = (name: string) => join(process.env.SOAK_EFFECTS!, name);
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\\n') : []);
/** Key-checked: one effect a key, however often it runs. */
export const count = defineTool({
  name: 'count', description: 'count', input: z.object({}), checksIdempotencyKey: true,
  async execute(_, { idempotencyKey: key }) {
    if (!lines(at('count.log')).includes(key)) appendFileSync(at('count.log'), key + '\\n');
    return 'counted';
  },
});
/** Neither idempotent nor key-checked; held after its effect until released (or killed). */
export const bump = defineTool({
  name: 'bump', description: 'bump', input: z.object({}),
  async execute(_, { idempotencyKey: key }) {
    appendFileSync(at('bump.log'), key + '\\n');
    const held = key.replace(/[^\\w-]/g, '_');
    writeFileSync(at('held-' + held), '');
    while (!existsSync(at('release-' + held))) await new Promise((r) => setTimeout(r, 2));
    return 'bumped';
  },
});
`,
  );
  mkdirSync(join(dir, 'policies'), { recursive: true });
  writeFileSync(
    join(dir, 'policies', 'soak.cedar'),
    '@id("counting")\npermit (principal, action in [Action::"count", Action::"bump"], resource);\n',
  );
}

/**
 * An agent of `turns` steps, each calling a key-checked tool (`count`) and an unsafe one
 * (`bump`, which waits after its effect until released, so a kill can land between effect
 * and result), under a policy set (every call audited). Returns the spec's path.
 */
export function writeSoakAgent(dir: string, name = 'soak', turns = 4): string {
  writeSoakTools(dir);
  const steps = Array.from(
    { length: turns },
    (_, i) => `  - text: step ${i + 1}\n    tool_calls:\n      - name: count\n      - name: bump\n`,
  ).join('');
  writeFileSync(join(dir, `${name}-script.yaml`), `turns:\n${steps}  - text: all done\n`);
  const spec = join(dir, `${name}.yaml`);
  writeFileSync(
    spec,
    `name: ${name}\nmodel: scripted/${name}\nscript: ${name}-script.yaml\ntools:\n  - module: tools.ts\npolicy: { dir: ./policies }\n`,
  );
  return spec;
}

export type SoakRun = Awaited<ReturnType<SqliteStore['listRuns']>>[number] & {
  events: RunEvent[];
};

/** Every run in the store of `home`, with its events. */
export async function readRuns(home: string): Promise<SoakRun[]> {
  if (!existsSync(join(home, 'agentd.db'))) return [];
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  try {
    const list = await store.listRuns({ limit: 1000 });
    return await Promise.all(
      list.map(async (run) => ({ ...run, events: await store.readEvents(run.id) })),
    );
  } finally {
    await store.close();
  }
}

/** The task a run was given (its `run.started`). */
export function taskOf(run: SoakRun): string | undefined {
  return (run.events[0]?.data as { task?: string } | undefined)?.task;
}

/**
 * When a `bump` of this effects folder is held: releases it, or (1 in 5, by `random`) says to
 * kill now (only while `killing`), between its effect and its result. Each held call is
 * decided once, across processes.
 */
export function heldBumps(effects: string, random: () => number): (killing: boolean) => boolean {
  const decided = new Set<string>();
  return (killing) => {
    for (const file of readdirSync(effects)) {
      if (!file.startsWith('held-') || decided.has(file)) continue;
      decided.add(file);
      if (killing && random() < 0.2) return true;
      writeFileSync(join(effects, `release-${file.slice('held-'.length)}`), '');
    }
    return false;
  };
}

/** The counters a soak reports. */
export function tally() {
  return { rounds: 0, started: 0, kills: 0, pauses: 0, checks: 0, resumes: 0 };
}

/**
 * One process of a round: SIGKILLed (unless 15 in 100, or once no more kills are wanted) after
 * 2 to `killSpan` more events than `base`, or when its held `bump` says so; SIGSTOPped (4 in 10)
 * after 1 to `pauseSpan` more and continued. Counts the kill and the pause in `counts`.
 */
export async function soakProcess(
  args: string[],
  env: Record<string, string> & { AGENTD_HOME: string },
  round: {
    base: number;
    killing: boolean;
    random: () => number;
    held: (killing: boolean) => boolean;
    killSpan: number;
    pauseSpan: number;
  },
  counts: ReturnType<typeof tally>,
): Promise<KillOutcome> {
  const { base, killing, random } = round;
  const roll = random();
  const atEvents =
    roll < 0.15 || !killing ? undefined : base + 2 + Math.floor(random() * round.killSpan);
  const pauseAt = roll < 0.4 ? base + 1 + Math.floor(random() * round.pauseSpan) : undefined;
  const result = await agentdUntilKilled(args, env, {
    ...(atEvents !== undefined ? { atEvents } : {}),
    onLook: () => round.held(killing),
    ...(pauseAt ? { pauseAt } : {}),
  });
  if (result.killed) counts.kills++;
  if (result.paused) counts.pauses++;
  return result;
}

/**
 * The invariants of every run in the store, after a round: dense `seq`, no call answered
 * twice, no result without its call; a completed run answered every call and each `bump`
 * error is an `in_doubt`. Then the audit chain verifies. Returns how many checks it made.
 */
export async function checkStore(home: string): Promise<number> {
  let checks = 0;
  const runs = await readRuns(home);
  for (const run of runs) {
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
  // the audit chain, walked as \`agentd audit verify\` walks it (without a process a round)
  if (runs.length === 0) return checks;
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  try {
    const verified = verifyAudit(await store.listAudit(), await store.auditHead());
    expect(verified.ok, verified.ok ? '' : verified.problem).toBe(true);
  } finally {
    await store.close();
  }
  return checks + 1;
}

/** \`agentd audit verify\` on the store, as a user runs it; returns the entries it read. */
export async function auditVerify(home: string): Promise<number> {
  const verify = await agentd(['audit', 'verify'], { home });
  expect(verify.code, verify.stderr).toBe(0);
  return Number(/(\d+) entries, chain intact/.exec(verify.stdout)?.[1] ?? 0);
}

function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : [];
}

/**
 * The effects of `runs` in one effects folder: the key-checked counter counted each key once
 * and only keys of logged calls, and no unsafe call ran twice.
 */
export function checkEffects(effects: string, runs: SoakRun[]): void {
  const counted = lines(join(effects, 'count.log'));
  const keys = runs.flatMap((r) =>
    r.events.flatMap((e) =>
      e.type === 'tool.call' && e.data.name === 'count' ? [e.data.idempotencyKey] : [],
    ),
  );
  const ran = runs.some((r) =>
    r.events.some((e) => e.type === 'tool.result' && e.data.name === 'count' && !e.data.isError),
  );
  expect(new Set(counted).size, `${effects}: counted twice`).toBe(counted.length);
  for (const key of counted) expect(keys).toContain(key);
  expect(counted.length).toBeGreaterThanOrEqual(ran ? 1 : 0);
  const bumped = lines(join(effects, 'bump.log'));
  expect(new Set(bumped).size, `${effects}: an unsafe call ran twice`).toBe(bumped.length);
}

/** Whether a run stopped for a person over an in-doubt call (and how to go on). */
export function inDoubtRuns(runs: SoakRun[]): number {
  return runs.filter((r) =>
    r.events.some(
      (e) => e.type === 'tool.result' && e.data.isError && e.data.errorKind === 'in_doubt',
    ),
  ).length;
}
