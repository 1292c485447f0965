import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { newId } from '../../src/core/ids.ts';
import { Judge, ScriptedJudge } from '../../src/evals/judge.ts';
import { loadOnlineSettings, OnlineScorer, onlineSource } from '../../src/evals/online.ts';
import { isSampled, sampleValue, wantsRun } from '../../src/evals/online-hook.ts';
import { runAgent } from '../../src/runtime/agent-loop.ts';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { EvalScoreRecord } from '../../src/store/store.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { TurnModel } from '../support/models.ts';
import { tempDir } from '../support/temp-dir.ts';

describe('online sampling', () => {
  it('takes the configured share of runs, the same runs every time', () => {
    // fixed ids (the hash spreads them), so the test cannot flake; and some real ones
    const ids = [
      ...Array.from(
        { length: 20_000 },
        (_, i) => `run_01m8n${i.toString(32).padStart(5, '0')}k2v9qz`,
      ),
      ...Array.from({ length: 100 }, () => newId('run')),
    ];
    for (const share of [0.01, 0.1, 0.25, 0.5, 0.9]) {
      const taken = ids.filter((id) => isSampled(id, share)).length / ids.length;
      expect(Math.abs(taken - share), `share ${share}: took ${taken}`).toBeLessThan(0.01);
    }
    expect(ids.filter((id) => isSampled(id, 0))).toEqual([]);
    expect(ids.filter((id) => isSampled(id, 1))).toHaveLength(ids.length);
    // deterministic, and a smaller sample is part of a larger one
    for (const id of ids.slice(0, 500)) {
      expect(isSampled(id, 0.3)).toBe(isSampled(id, 0.3));
      if (isSampled(id, 0.1)) expect(isSampled(id, 0.3)).toBe(true);
      const v = sampleValue(id);
      expect(v >= 0 && v < 1).toBe(true);
    }
    expect(sampleValue('run_fixed')).toBe(sampleValue('run_fixed'));
    // agents filter
    const config = { onlineEval: { sample: 1, agents: ['a'], evaluators: ['errors'] } };
    expect(wantsRun(config, { id: 'run_1', agent: 'a' })).toBe(true);
    expect(wantsRun(config, { id: 'run_1', agent: 'b' })).toBe(false);
    expect(wantsRun({}, { id: 'run_1', agent: 'a' })).toBe(false);
  });

  it('the in-process scorer scores exactly the sampled finished runs and keeps the scores', async () => {
    const home = tempDir();
    writeFileSync(
      join(home, 'config.yaml'),
      'online_eval:\n  sample: 0.5\n  evaluators: [errors, { turns: { max: 1 } }]\n',
    );
    const config = loadConfig({ AGENTD_HOME: home });
    const settings = (await loadOnlineSettings(config))!;
    const store = new SqliteStore({ path: ':memory:' });
    const scorer = new OnlineScorer({ store, settings, log: () => {} });
    const ids: string[] = [];
    for (let i = 0; i < 24; i++) {
      const { runId } = await runAgent({
        store,
        agent: {
          name: 'echo',
          instructions: '',
          model: new TurnModel([{ text: `answer ${i}` }]),
          tools: [],
        },
        task: `task ${i}`,
      });
      ids.push(runId);
      scorer.afterRun(runId);
    }
    await scorer.idle();
    const scores = await store.listEvalScores({ source: onlineSource, runs: 100 });
    const scored = new Set(scores.map((s) => s.runId));
    expect([...scored].sort()).toEqual(ids.filter((id) => isSampled(id, 0.5)).sort());
    expect(scored.size).toBeGreaterThan(0);
    expect(scored.size).toBeLessThan(24);
    const first = scores.filter((s) => s.runId === [...scored][0]);
    expect(first.map((s) => [s.evaluator, s.score, s.pass, s.agent])).toEqual([
      ['errors', 1, true, 'echo'],
      ['turns', 1, true, 'echo'],
    ]);
    // newest scored first, limited by runs
    expect(new Set((await store.listEvalScores({ runs: 2 })).map((s) => s.runId)).size).toBe(2);
    await scorer.close();
    await store.close();
  });
});

// Each test starts agentd processes: slow on a busy machine.
describe('online evaluation after agentd run', { timeout: 120_000 }, () => {
  function configure(home: string, sample: number): void {
    writeFileSync(
      join(home, 'verdicts.yaml'),
      'verdicts:\n  - evaluator: helpfulness\n    reply: { score: 0.75, explanation: "useful" }\n',
    );
    writeFileSync(
      join(home, 'config.yaml'),
      `online_eval:
  sample: ${sample}
  judge: { model: anthropic/claude-haiku-5-5, script: verdicts.yaml }
  evaluators:
    - helpfulness
    - errors
    - turns: { max: 5 }
`,
    );
  }

  async function waitForScores(home: string, runId: string): Promise<EvalScoreRecord[]> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await agentd(['eval', 'online', '--run', runId, '--json'], { home });
      const lines = r.stdout.trim().split('\n').filter(Boolean);
      if (lines.length) return lines.map((line) => JSON.parse(line));
      if (Date.now() > deadline) throw new Error(`no online scores for ${runId}: ${r.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  it('a sampled run is scored in the background and listed by agentd eval online', async () => {
    const home = tempDir();
    configure(home, 1);
    const run = await agentd(['run', 'examples/unit-converter/agent.yaml', 'convert a marathon'], {
      home,
    });
    expect(run.code, run.stderr).toBe(0);
    const runId = /run (run_[0-9a-z]+) · agentd runs show/.exec(run.stderr)![1]!;
    const scores = await waitForScores(home, runId);
    expect(scores.map((s) => [s.evaluator, s.score, s.pass, s.source, s.agent])).toEqual([
      ['helpfulness', 0.75, true, 'online', 'unit-converter'],
      ['errors', 1, true, 'online', 'unit-converter'],
      ['turns', 1, true, 'online', 'unit-converter'],
    ]);
    expect(scores[0]?.explanation).toBe('[scripted] useful');
    expect(scores[0]?.judge).toMatchObject({ model: 'scripted/verdicts', scripted: true });
    expect(String(scores[0]?.judge?.promptVersion)).toMatch(/^helpfulness\/v1\+[0-9a-f]{8}$/);

    const list = await agentd(['eval', 'online'], { home });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(
      /^online evaluation: 100% of finished runs \(online_eval in .*config\.yaml\)$/m,
    );
    expect(list.stdout).toMatch(
      new RegExp(
        `^${runId} +unit-converter +[\\d-]+ [\\d:]+ +helpfulness +0\\.75 +pass +\\[scripted\\] useful$`,
        'm',
      ),
    );
    expect(list.stdout).toMatch(/^helpfulness +0\.75 +100%$/m);
  });

  it('a run the sample does not take is not scored, unless forced', async () => {
    const home = tempDir();
    configure(home, 0);
    const run = await agentd(['run', 'examples/unit-converter/agent.yaml', 'convert'], { home });
    const runId = /run (run_[0-9a-z]+) · agentd runs show/.exec(run.stderr)![1]!;
    const now = await agentd(['eval', 'online', '--score', runId], { home });
    expect(now.code, now.stderr).toBe(0);
    expect(now.stdout).toMatch(new RegExp(`run ${runId}: not scored: not in the 0% sample\\n$`));
    const forced = await agentd(['eval', 'online', '--score', runId, '--force'], { home });
    expect(forced.stdout).toMatch(
      new RegExp(
        `run ${runId}: helpfulness 0\\.75 pass, errors 1\\.00 pass, turns 1\\.00 pass\\n$`,
      ),
    );
    const empty = await agentd(['eval', 'online'], { home: tempDir() });
    expect(empty.stdout).toMatch(
      /^online evaluation is off: add online_eval to .*config\.yaml \(see docs\/evals\.md\)\nno runs scored yet\n$/,
    );
  });

  it('says in one line what is wrong with online_eval', async () => {
    const home = tempDir();
    for (const [yaml, message] of [
      [
        'online_eval:\n  sample: 2\n  evaluators: [errors]\n',
        /config\.yaml: online_eval\.sample: /,
      ],
      [
        'online_eval:\n  sample: 1\n  evaluators: [helpfullness]\n',
        /config\.yaml: online_eval\.evaluators\.0: unknown evaluator "helpfullness"/,
      ],
      [
        'online_eval:\n  sample: 1\n  evaluators: [helpfulness]\n',
        /config\.yaml: online_eval: helpfulness needs a judge model/,
      ],
      [
        'online_eval:\n  sample: 1\n  judge: { model: gpt }\n  evaluators: [errors]\n',
        /config\.yaml: online_eval\.judge\.model: write provider\/model-id/,
      ],
    ] as const) {
      writeFileSync(join(home, 'config.yaml'), yaml);
      const r = await agentd(['eval', 'online', '--score', 'run_x'], { home });
      expect(r.code, yaml).toBe(2);
      expect(r.stderr, yaml).toMatch(message);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});

// Each test starts agentd processes: slow on a busy machine.
describe('online evaluation in agentd serve', { timeout: 120_000 }, () => {
  const servers: { server: RunningServer; store: SqliteStore }[] = [];
  afterEach(async () => {
    for (const { server, store } of servers.splice(0)) {
      await server.close();
      await store.close();
    }
  });

  it('scores the runs that finish in the server', async () => {
    const home = tempDir();
    writeFileSync(
      join(home, 'config.yaml'),
      `agent_dirs: [${JSON.stringify(join(repoRoot, 'examples'))}]
online_eval:
  sample: 1
  agents: [unit-converter]
  evaluators: [errors, policy_denials]
`,
    );
    const config = loadConfig({ AGENTD_HOME: home });
    const store = new SqliteStore({ path: config.dbPath });
    const lines: string[] = [];
    const server = await startServer({
      store,
      config,
      host: '127.0.0.1',
      port: 0,
      version: 'test',
      log: (l) => lines.push(l),
    });
    servers.push({ server, store });
    expect(lines).toContain(
      'agentd serve: online eval scores 100% of finished runs of unit-converter',
    );
    const { key } = await new ApiKeys(store).create('tests', ['runs']);
    const response = await fetch(`${server.url}/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'unit-converter', task: 'a marathon in km' }),
    });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    const deadline = Date.now() + 60_000;
    let scores: EvalScoreRecord[] = [];
    while (scores.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      scores = await store.listEvalScores({ runId: id });
    }
    expect(scores.map((s) => [s.evaluator, s.score, s.source])).toEqual([
      ['errors', 1, 'online'],
      ['policy_denials', 1, 'online'],
    ]);
    expect(
      lines.some((l) => l.startsWith(`agentd serve: online eval of run ${id}: 2 scores`)),
    ).toBe(true);
  });

  it('a broken online_eval stops the server from starting, in one line', async () => {
    const home = tempDir();
    writeFileSync(
      join(home, 'config.yaml'),
      'online_eval:\n  sample: 1\n  evaluators: [{ custom: ./missing.ts }]\n',
    );
    const config = loadConfig({ AGENTD_HOME: home });
    const store = new SqliteStore({ path: config.dbPath });
    await expect(
      startServer({ store, config, host: '127.0.0.1', port: 0, version: 'test', log: () => {} }),
    ).rejects.toThrow(/config\.yaml: online_eval\.evaluators\.0\.custom: .*missing\.ts not found/);
    await store.close();
    // the judge is resolved like an agent's model
    expect(new Judge(new ScriptedJudge('x', { verdicts: [{ reply: 'x' }] })).ref).toBe(
      'scripted/x',
    );
  });
});
