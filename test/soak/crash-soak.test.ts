import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countEvents, prng } from '../support/kill-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import * as soak from './soak-support.ts';

/** Concurrent runs on one store; AGENTD_SOAK_RUNS and AGENTD_SOAK_KILLS ask for a longer soak. */
const RUNS = Number(process.env.AGENTD_SOAK_RUNS ?? 3);
const KILLS = Number(process.env.AGENTD_SOAK_KILLS ?? 6);

describe('crash soak: concurrent runs on one store under SIGKILL and SIGSTOP/SIGCONT', () => {
  it(`${RUNS} runs at a time, ${KILLS}+ kills at points chosen from observed events; every invariant holds after each round`, async () => {
    const dir = tempDir();
    const spec = soak.writeSoakAgent(dir);
    const home = join(dir, 'home');
    const random = prng(20261207);
    const n = soak.tally();
    const effectsOf = (slot: number) => join(dir, `effects-${slot}`);
    for (let slot = 0; slot < RUNS; slot++) mkdirSync(effectsOf(slot));
    const held = Array.from({ length: RUNS }, (_, slot) => soak.heldBumps(effectsOf(slot), random));
    // each slot's run id once it has one (its effects folder is its own)
    const runOf: (string | undefined)[] = [];
    while (n.rounds < 80) {
      n.rounds++;
      const all = await soak.readRuns(home);
      const status = (slot: number) => all.find((r) => r.id === runOf[slot])?.status;
      const open = Array.from({ length: RUNS }, (_, slot) => slot).filter(
        (slot) => status(slot) !== 'completed',
      );
      if (open.length === 0 && n.kills >= KILLS) break;
      // once the kills asked for landed, a last round takes every open run to its end
      const killing = n.kills < KILLS;
      const base = countEvents(home);
      const work = open.length ? open : Array.from({ length: RUNS }, (_, slot) => slot);
      await Promise.all(
        work.map(async (slot) => {
          const run = all.find((r) => r.id === runOf[slot]);
          const fresh = !run || run.status === 'completed';
          // a new run for this slot once its last completed (more runs, more kills)
          if (fresh) n.started++;
          const args = fresh
            ? ['run', spec, `soak ${slot}`]
            : run!.status === 'needs_attention'
              ? ['runs', 'resume', run!.id, '--skip-in-doubt']
              : ['runs', 'resume', run!.id];
          const before = new Set((await soak.readRuns(home)).map((r) => r.id));
          await soak.soakProcess(
            args,
            { AGENTD_HOME: home, SOAK_EFFECTS: effectsOf(slot) },
            { base, killing, random, held: held[slot]!, killSpan: 12, pauseSpan: 6 },
            n,
          );
          if (fresh) {
            const mine = (await soak.readRuns(home)).find(
              (r) =>
                !before.has(r.id) &&
                r.events[0]?.type === 'run.started' &&
                soak.taskOf(r) === `soak ${slot}`,
            );
            if (mine) runOf[slot] = mine.id;
          }
        }),
      );
      // invariants after each round, on every run in the store, and the audit chain
      n.checks += await soak.checkStore(home);
    }
    // effects, per slot: the key-checked counter once a call, the unsafe tool never twice
    const all = await soak.readRuns(home);
    for (let slot = 0; slot < RUNS; slot++) {
      soak.checkEffects(
        effectsOf(slot),
        all.filter((r) => soak.taskOf(r) === `soak ${slot}`),
      );
      n.checks++;
    }
    // and the chain once more through the command, as a user checks it
    const audited = await soak.auditVerify(home);
    expect(audited).toBeGreaterThan(0);
    n.checks++;
    expect(n.kills).toBeGreaterThanOrEqual(KILLS);
    expect(n.pauses).toBeGreaterThan(0);
    expect(all.every((r) => r.status === 'completed')).toBe(true);
    console.log(
      `soak: ${n.rounds} rounds, ${n.started} runs, ${n.kills} kills, ${n.pauses} SIGSTOP/SIGCONT, ${soak.inDoubtRuns(all)} runs with an in-doubt call flagged, ${audited} audit entries verified, ${n.checks} invariant checks, 0 violations`,
    );
  }, 600_000);
});
