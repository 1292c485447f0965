import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentdUntilKilled, countEvents, prng } from '../support/kill-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import {
  auditVerify,
  checkEffects,
  checkStore,
  heldBumps,
  inDoubtRuns,
  readRuns,
  taskOf,
  writeSoakAgent,
} from './soak-support.ts';

/** Concurrent runs on one store; AGENTD_SOAK_RUNS and AGENTD_SOAK_KILLS ask for a longer soak. */
const RUNS = Number(process.env.AGENTD_SOAK_RUNS ?? 3);
const KILLS = Number(process.env.AGENTD_SOAK_KILLS ?? 6);

describe('crash soak: concurrent runs on one store under SIGKILL and SIGSTOP/SIGCONT', () => {
  it(`${RUNS} runs at a time, ${KILLS}+ kills at points chosen from observed events; every invariant holds after each round`, async () => {
    const dir = tempDir();
    const spec = writeSoakAgent(dir);
    const home = join(dir, 'home');
    const random = prng(20261207);
    let kills = 0;
    let pauses = 0;
    let checks = 0;
    let started = 0;
    let rounds = 0;
    const effectsOf = (slot: number) => join(dir, `effects-${slot}`);
    for (let slot = 0; slot < RUNS; slot++) mkdirSync(effectsOf(slot));
    const held = Array.from({ length: RUNS }, (_, slot) => heldBumps(effectsOf(slot), random));
    // each slot's run id once it has one (its effects folder is its own)
    const runOf: (string | undefined)[] = [];
    while (rounds < 80) {
      rounds++;
      const all = await readRuns(home);
      const status = (slot: number) => all.find((r) => r.id === runOf[slot])?.status;
      const open = Array.from({ length: RUNS }, (_, slot) => slot).filter(
        (slot) => status(slot) !== 'completed',
      );
      if (open.length === 0 && kills >= KILLS) break;
      // once the kills asked for landed, a last round takes every open run to its end
      const killing = kills < KILLS;
      const base = countEvents(home);
      const work = open.length ? open : Array.from({ length: RUNS }, (_, slot) => slot);
      await Promise.all(
        work.map(async (slot) => {
          const run = all.find((r) => r.id === runOf[slot]);
          const fresh = !run || run.status === 'completed';
          // a new run for this slot once its last completed (more runs, more kills)
          if (fresh) started++;
          const args = fresh
            ? ['run', spec, `soak ${slot}`]
            : run!.status === 'needs_attention'
              ? ['runs', 'resume', run!.id, '--skip-in-doubt']
              : ['runs', 'resume', run!.id];
          const roll = random();
          const atEvents =
            roll < 0.15 || !killing ? undefined : base + 2 + Math.floor(random() * 12);
          const pauseAt = roll < 0.4 ? base + 1 + Math.floor(random() * 6) : undefined;
          const before = new Set((await readRuns(home)).map((r) => r.id));
          const result = await agentdUntilKilled(
            args,
            { AGENTD_HOME: home, SOAK_EFFECTS: effectsOf(slot) },
            {
              ...(atEvents !== undefined ? { atEvents } : {}),
              onLook: () => held[slot]!(killing),
              ...(pauseAt ? { pauseAt } : {}),
            },
          );
          if (result.killed) kills++;
          if (result.paused) pauses++;
          if (fresh) {
            const mine = (await readRuns(home)).find(
              (r) =>
                !before.has(r.id) &&
                r.events[0]?.type === 'run.started' &&
                taskOf(r) === `soak ${slot}`,
            );
            if (mine) runOf[slot] = mine.id;
          }
        }),
      );
      // invariants after each round, on every run in the store, and the audit chain
      checks += await checkStore(home);
    }
    // effects, per slot: the key-checked counter once a call, the unsafe tool never twice
    const all = await readRuns(home);
    for (let slot = 0; slot < RUNS; slot++) {
      checkEffects(
        effectsOf(slot),
        all.filter((r) => taskOf(r) === `soak ${slot}`),
      );
      checks++;
    }
    // and the chain once more through the command, as a user checks it
    const audited = await auditVerify(home);
    expect(audited).toBeGreaterThan(0);
    checks++;
    expect(kills).toBeGreaterThanOrEqual(KILLS);
    expect(pauses).toBeGreaterThan(0);
    expect(all.every((r) => r.status === 'completed')).toBe(true);
    console.log(
      `soak: ${rounds} rounds, ${started} runs, ${kills} kills, ${pauses} SIGSTOP/SIGCONT, ${inDoubtRuns(all)} runs with an in-doubt call flagged, ${audited} audit entries verified, ${checks} invariant checks, 0 violations`,
    );
  }, 600_000);
});
