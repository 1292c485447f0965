import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentdUntilKilled, countEvents, prng } from '../support/kill-harness.ts';
import { tempDir } from '../support/temp-dir.ts';
import * as soak from './soak-support.ts';

/** Runs at a time on one server; AGENTD_SOAK_SERVE_RUNS and AGENTD_SOAK_SERVE_KILLS ask for more. */
const RUNS = Number(process.env.AGENTD_SOAK_SERVE_RUNS ?? 3);
const KILLS = Number(process.env.AGENTD_SOAK_SERVE_KILLS ?? 5);
const settledStatuses = new Set(['completed', 'needs_attention', 'failed', 'cancelled']);

describe('crash soak: agentd serve under SIGKILL and SIGSTOP/SIGCONT, restarted on the same store', () => {
  it(`${RUNS} runs over the HTTP API, ${KILLS}+ kills of the server at observed events; runs resume on restart and every invariant holds after each round`, async () => {
    const dir = tempDir();
    soak.writeSoakAgent(dir);
    const home = join(dir, 'home');
    mkdirSync(home);
    writeFileSync(join(home, 'config.yaml'), `agent_dirs: ${JSON.stringify([dir])}\n`);
    const effects = join(dir, 'effects');
    mkdirSync(effects);
    const keyStore = new SqliteStore({ path: join(home, 'agentd.db') });
    const { key } = await new ApiKeys(keyStore).create('soak', ['runs']);
    await keyStore.close();
    const random = prng(20261208);
    const held = soak.heldBumps(effects, random);
    const n = { ...soak.tally(), recovered: 0 };
    const runOf: (string | undefined)[] = [];
    while (n.rounds < 80) {
      n.rounds++;
      const all = await soak.readRuns(home);
      const runIn = (slot: number) => all.find((r) => r.id === runOf[slot]);
      if (all.length > 0 && all.every((r) => r.status === 'completed') && n.kills >= KILLS) break;
      const killing = n.kills < KILLS;
      // what the restart must take up by itself: runs the last server left going
      n.recovered += all.filter((r) => ['running', 'suspended'].includes(r.status)).length;
      const base = countEvents(home);
      const roll = random();
      const atEvents = roll < 0.15 || !killing ? undefined : base + 2 + Math.floor(random() * 24);
      const pauseAt = roll < 0.5 ? base + 1 + Math.floor(random() * 12) : undefined;
      let url: ((value: string) => void) | undefined;
      const serving = new Promise<string>((resolve) => {
        url = resolve;
      });
      let settled = false;
      let gone = false;
      const outcome = agentdUntilKilled(
        ['serve', '--port', '0'],
        { AGENTD_HOME: home, SOAK_EFFECTS: effects },
        {
          ...(atEvents !== undefined ? { atEvents } : {}),
          ...(pauseAt ? { pauseAt } : {}),
          onLook: () => held(killing),
          endWhen: () => settled,
          onStdout: (text) => {
            const match = /serving on (http:\/\/\S+)/.exec(text);
            if (match) url!(match[1]!);
          },
        },
      ).finally(() => {
        gone = true;
      });
      const at = await Promise.race([serving, outcome.then(() => undefined)]);
      const before = new Set(all.map((r) => r.id));
      if (at) {
        const call = (path: string, body: unknown) =>
          fetch(`${at}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
        await Promise.all(
          Array.from({ length: RUNS }, async (_, slot) => {
            const run = runIn(slot);
            try {
              if (!run || run.status === 'completed') {
                n.started++;
                const response = await call('/runs', { agent: 'soak', task: `soak ${slot}` });
                expect(response.status, await response.clone().text()).toBe(201);
                runOf[slot] = ((await response.json()) as { id: string }).id;
              } else if (['needs_attention', 'failed', 'cancelled'].includes(run.status)) {
                const inDoubt = run.status === 'needs_attention' ? { inDoubt: 'skip' } : {};
                const response = await call(`/runs/${run.id}/resume`, inDoubt);
                expect(response.status, await response.clone().text()).toBe(202);
                n.resumes++;
              }
            } catch (error) {
              // the server was killed under the request: the next round sees what it left
              if (!(error instanceof TypeError)) throw error;
            }
          }),
        );
        // until every run settled (or the server is gone): then a graceful end
        while (!gone) {
          const now = await soak.readRuns(home);
          settled = Array.from({ length: RUNS }, (_, slot) =>
            now.find((r) => r.id === runOf[slot]),
          ).every((r) => r && settledStatuses.has(r.status));
          if (settled) break;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
      const result = await outcome;
      if (result.killed) n.kills++;
      if (result.paused) n.pauses++;
      // a run n.started under a kill, before its id came back
      const after = await soak.readRuns(home);
      for (let slot = 0; slot < RUNS; slot++) {
        const mine = after.find((r) => !before.has(r.id) && soak.taskOf(r) === `soak ${slot}`);
        if (mine) runOf[slot] = mine.id;
      }
      n.checks += await soak.checkStore(home);
    }
    const all = await soak.readRuns(home);
    soak.checkEffects(effects, all);
    n.checks++;
    // and the chain once more through the command, as a user n.checks it
    const audited = await soak.auditVerify(home);
    expect(audited).toBeGreaterThan(0);
    n.checks++;
    expect(n.kills).toBeGreaterThanOrEqual(KILLS);
    expect(n.pauses).toBeGreaterThan(0);
    expect(n.recovered).toBeGreaterThan(0);
    expect(all.every((r) => r.status === 'completed')).toBe(true);
    console.log(
      `serve soak: ${n.rounds} server starts, ${n.started} runs, ${n.kills} kills, ${n.pauses} SIGSTOP/SIGCONT, ${n.recovered} runs taken up on restart, ${n.resumes} resumed over the API, ${soak.inDoubtRuns(all)} runs with an in-doubt call flagged, ${audited} audit entries verified, ${n.checks} invariant checks, 0 violations`,
    );
  }, 600_000);
});
