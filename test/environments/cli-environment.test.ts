import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvalResult } from '../../src/evals/result.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

describe('agentd with environments', () => {
  it('agentd run: an agent in an environment needs no task (its goal is in the spec)', async () => {
    const home = tempDir();
    const result = await agentd(['run', 'examples/gridworld/agent.yaml'], { home });
    expect(result.stderr).toMatch(
      /ANTHROPIC_API_KEY is not set, so this run replays the scripted model in .*policy\.ts/,
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/\[scripted\] Done: reached the goal after \d+ steps/);
    // Its episode, as a dataset line and as a page that plays it back.
    const exported = await agentd(['env', 'trajectories'], { home });
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const trajectory = JSON.parse(lines[0]!) as Record<string, unknown> & {
      steps: unknown[];
      source: { run: string };
    };
    expect(trajectory).toMatchObject({
      environment: 'gridworld',
      seed: 7,
      success: true,
      terminated: true,
      source: { agent: 'gridworld-navigator', scripted: true },
    });
    expect(trajectory.steps).toHaveLength(trajectory.optimal_steps as number);
    const page = join(home, 'replay.html');
    const replay = await agentd(['env', 'replay', trajectory.source.run.slice(0, 12), '-o', page], {
      home,
    });
    expect(replay.code, replay.stderr).toBe(0);
    expect(readFileSync(page, 'utf8')).toMatch(/<pre>|id="frames"/);
    const missing = await agentd(['env', 'replay', 'run_nope'], { home });
    expect(missing.stderr.trim()).toBe(
      'agentd: no run "run_nope" (or the prefix matches several): see agentd runs list',
    );
  }, 120_000);

  it('agentd eval run examples/gridworld/suite.yaml scores the seeded episodes offline, with trials', async () => {
    const home = tempDir();
    const out = tempDir();
    const result = await agentd(['eval', 'run', 'examples/gridworld/suite.yaml', '--out', out], {
      home,
    });
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as EvalResult;
    expect(report.trials).toBe(2);
    const byId = new Map(report.cases.map((c) => [c.id, c]));
    expect([...byId.keys()]).toEqual([
      'seed-1',
      'seed-2',
      'seed-3',
      'seed-4',
      'two-doors-5',
      'two-doors-6',
      'tight-limit',
    ]);
    for (const c of report.cases) expect(c.trials).toHaveLength(2);
    for (const id of ['seed-1', 'two-doors-6']) {
      expect(byId.get(id)!.status).toBe('passed');
      expect(byId.get(id)!.evaluators.optimal_steps!.mean).toBe(1);
    }
    const tight = byId.get('tight-limit')!;
    expect(tight.status).toBe('failed');
    expect(
      tight.trials[0]!.scores.find((s) => s.evaluator === 'episode_success')!.explanation,
    ).toBe('did not reach the goal: truncated at 4 steps');
    expect(report.summary.byEvaluator.episode_success!.mean).toBeCloseTo(6 / 7, 6);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  }, 120_000);

  it('bad environment settings are one line each, before anything runs', async () => {
    const home = tempDir();
    const dir = tempDir();
    const write = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const base = `name: a\nmodel: scripted/a\nscript: ${join(repoRoot, 'examples/gridworld/policy.ts')}\n`;
    const cases: [string, RegExp][] = [
      [
        write('kind.yaml', `${base}environment: { kind: maze }\n`),
        /kind.yaml: environment\.kind: "maze" is not allowed \(use one of: gridworld, world-model\)/,
      ],
      [
        write('size.yaml', `${base}environment: { kind: gridworld, size: 40 }\n`),
        /size.yaml: environment\.size: .*15/,
      ],
      [
        write('url.yaml', `${base}environment: { kind: world-model, url: ftp://x, prompt: p }\n`),
        /url.yaml: environment\.url: write the server as http\(s\):\/\/host:port or ws\(s\):\/\/host:port\/path/,
      ],
      [
        write(
          'userinfo.yaml',
          `${base}environment: { kind: world-model, url: "wss://me:hunter2@127.0.0.1:9/v1/world", prompt: p }\n`,
        ),
        /userinfo.yaml: environment\.url: a URL with credentials is logged with the episode; put the token in api_key_env/,
      ],
      [
        write(
          'socket-down.yaml',
          `${base}environment: { kind: world-model, url: "ws://127.0.0.1:9/v1/world", prompt: p }\n`,
        ),
        /socket-down.yaml: environment: cannot start the world-model environment: the world model at ws:\/\/127\.0\.0\.1:9\/v1\/world dropped the connection during start \(tried 3 times\): connect ECONNREFUSED/,
      ],
      [
        write(
          'prompt.yaml',
          `${base}environment: { kind: world-model, url: "http://127.0.0.1:9" }\n`,
        ),
        /prompt.yaml: environment\.prompt: is required/,
      ],
      [
        write(
          'image.yaml',
          `${base}environment: { kind: world-model, url: "http://127.0.0.1:9", prompt: p, image: ./none.png }\n`,
        ),
        /environment\.image: .*none\.png not found \(a PNG, relative to the spec file\)/,
      ],
      [
        write(
          'down.yaml',
          `${base}environment: { kind: world-model, url: "http://127.0.0.1:9", prompt: p }\n`,
        ),
        /down.yaml: environment: cannot start the world-model environment: the world model at http:\/\/127\.0\.0\.1:9 dropped the connection during start \(tried 3 times\)/,
      ],
      [
        write(
          'token.yaml',
          `${base}environment: { kind: world-model, url: "http://127.0.0.1:9", prompt: p, api_key_env: WORLD_TOKEN }\n`,
        ),
        /environment\.api_key_env: WORLD_TOKEN is not set/,
      ],
    ];
    for (const [spec, line] of cases) {
      const result = await agentd(['run', spec], { home });
      expect(result.stderr, spec).toMatch(line);
      expect(result.stderr.trim().split('\n'), spec).toHaveLength(1);
      expect(result.code, spec).not.toBe(0);
    }
  }, 180_000);

  it('bad environment cases in a dataset are one line naming file:line and the field', async () => {
    const home = tempDir();
    const dir = tempDir();
    const agent = join(repoRoot, 'examples/gridworld/agent.yaml');
    const plain = join(repoRoot, 'examples/unit-converter/agent.yaml');
    const lines: [string, string, RegExp][] = [
      [
        '{"input": "x", "seed": 3}',
        agent,
        /cases\.jsonl:1: seed: only environment cases have one \(add "kind": "environment"\)/,
      ],
      ['{"kind": "environment", "seed": -1}', agent, /cases\.jsonl:1: seed: .*>=0/],
      [
        '{"kind": "game", "seed": 1}',
        agent,
        /cases\.jsonl:1: kind: "game" is not allowed \(use one of: task, environment\)/,
      ],
      ['{"goal": "g"}', agent, /cases\.jsonl:1: goal: only environment cases have one/],
      [
        '{"kind": "environment", "environment": {"kind": "gridworld", "doors": 9}}',
        agent,
        /cases\.jsonl:1: environment\.doors: .*3/,
      ],
      [
        '{"tags": []}',
        agent,
        /cases\.jsonl:1: input: is required \(the task; only "kind": "environment" cases may leave it for the goal\)/,
      ],
      [
        '{"kind": "environment", "seed": 1}',
        plain,
        /cases\.jsonl:1: an environment case for .*unit-converter\/agent\.yaml, which has no environment: section/,
      ],
    ];
    for (const [line, spec, expected] of lines) {
      writeFileSync(join(dir, 'cases.jsonl'), `${line}\n`);
      writeFileSync(
        join(dir, 'suite.yaml'),
        `agent: ${spec}\ndataset: ./cases.jsonl\nevaluators: [episode_success]\n`,
      );
      const result = await agentd(
        ['eval', 'run', join(dir, 'suite.yaml'), '--out', join(dir, 'out')],
        { home },
      );
      expect(result.stderr, line).toMatch(expected);
      expect(
        result.stderr
          .trim()
          .split('\n')
          .filter((l) => !/replays the scripted model/.test(l)),
        line,
      ).toHaveLength(1);
      expect(result.code, line).not.toBe(0);
    }
  }, 180_000);
});
