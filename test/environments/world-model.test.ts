import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { episodeRecord } from '../../src/environments/episode-record.ts';
import { FrameStore } from '../../src/environments/frame-store.ts';
import { decodePng, encodePng } from '../../src/environments/png.ts';
import { replayHtml } from '../../src/environments/replay-html.ts';
import { trajectoryOf } from '../../src/environments/trajectory.ts';
import { WorldModelEnvironment } from '../../src/environments/world-model.ts';
import { runSuite } from '../../src/evals/runner.ts';
import { loadSuite } from '../../src/evals/suite.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { repoRoot } from '../support/cli.ts';
import { FakeWorldModel } from '../support/fake-world-model.ts';
import { tempDir } from '../support/temp-dir.ts';

let server: FakeWorldModel;
beforeEach(async () => {
  server = await new FakeWorldModel().start();
});
afterEach(async () => {
  await server.close();
});

function world(framesDir: string, extra: { image?: Buffer; token?: string } = {}) {
  return new WorldModelEnvironment({
    url: server.url,
    prompt: 'a grassy plain',
    framesDir,
    ...extra,
  });
}

/** Where the red (agent) tile is in a 64×64 frame of the fake server, in tiles. */
function agentTile(png: Buffer): { x: number; y: number } {
  const { rgb, width } = decodePng(png);
  for (let i = 0; i < rgb.length; i += 3) {
    if (rgb[i] === 220 && rgb[i + 1] === 40 && rgb[i + 2] === 40) {
      const p = i / 3;
      return { x: (p % width) >> 2, y: Math.floor(p / width) >> 2 };
    }
  }
  throw new Error('no agent in the frame');
}

describe('the world-model adapter against a fake world-model server', () => {
  it('sends actions, gets frames, stores them content-addressed; the same actions give the same frames', async () => {
    const frames = tempDir();
    const env = world(frames);
    const first = await env.reset(3);
    const image = first.images![0]!;
    expect(image).toMatchObject({ mediaType: 'image/png', width: 64, height: 64 });
    expect(readFileSync(join(frames, `${image.digest}.png`)).toString('base64')).toBe(image.data);
    expect(agentTile(Buffer.from(image.data!, 'base64'))).toEqual({ x: 2, y: 8 });
    const forward = await env.step({ keys: ['w'] });
    expect(
      agentTile(readFileSync(join(frames, `${forward.observation.images![0]!.digest}.png`))),
    ).toEqual({ x: 3, y: 8 });
    const turned = await env.step({ mouse: { dx: 50 }, keys: ['w'], ticks: 2 });
    expect(agentTile(Buffer.from(turned.observation.images![0]!.data!, 'base64'))).toEqual({
      x: 3,
      y: 10,
    });
    // the beacon of seed 3 is at (7, 8)
    expect(turned.info).toEqual({ distance: 4 + 2 });
    // A second session from the same prompt and seed: the same frames, stored once.
    const again = world(frames);
    expect((await again.reset(3)).images![0]!.digest).toBe(image.digest);
    expect((await again.step({ keys: ['w'] })).observation.images![0]!.digest).toBe(
      forward.observation.images![0]!.digest,
    );
    await env.close();
    await again.close();
    expect(server.openSessions).toBe(0);
  });

  it('passes the start image (image+text-to-world) and the bearer token', async () => {
    const frames = tempDir();
    server.token = 'world-secret';
    const start = encodePng(1, 1, new Uint8Array([10, 20, 30]));
    const env = world(frames, { image: start, token: 'world-secret' });
    const first = await env.reset(0);
    const { rgb } = decodePng(Buffer.from(first.images![0]!.data!, 'base64'));
    expect([...rgb.subarray(0, 3)]).toEqual([10, 20, 30]);
    await env.close();
    await expect(world(frames).reset(0)).rejects.toThrow(
      `the world model at ${server.url} failed start (HTTP 401): a bearer token is required`,
    );
  });

  it('a dropped connection: the step is sent again and answered once (the same frame as without the drop)', async () => {
    const frames = tempDir();
    const calm = world(frames);
    await calm.reset(1);
    const expected = [];
    for (let i = 0; i < 3; i++)
      expected.push((await calm.step({ keys: ['w'] })).observation.images![0]!.digest);
    await calm.close();
    const shaky = world(frames);
    await shaky.reset(1);
    server.dropAnswerOf.add(2);
    server.requests.length = 0;
    const got = [];
    for (let i = 0; i < 3; i++)
      got.push((await shaky.step({ keys: ['w'] })).observation.images![0]!.digest);
    expect(got).toEqual(expected);
    const stepsSent = server.requests
      .filter((r) => r.path.endsWith('/actions'))
      .map((r) => (r.body as { step: number }).step);
    expect(stepsSent).toEqual([1, 2, 2, 3]);
    await shaky.close();
  });

  it('a server that keeps dropping the connection is one clear line, after three tries', async () => {
    const env = world(tempDir());
    await env.reset(1);
    server.dropEverything = true;
    server.requests.length = 0;
    await expect(env.step({ keys: ['w'] })).rejects.toThrow(
      new RegExp(
        `^the world model at ${server.url.replace(/\./g, '\\.')} dropped the connection during step 1 \\(tried 3 times\\): `,
      ),
    );
    expect(server.requests).toHaveLength(3);
  });

  it('refuses a bad action with one clear line, before sending it or from the server', async () => {
    const env = world(tempDir());
    await env.reset(1);
    server.requests.length = 0;
    for (const [bad, line] of [
      [{ keys: ['jump'] }, /^keys\.0: Invalid option: expected one of .*"w"\|"a"\|"s"\|"d"/],
      [{ mouse: { dx: 9000 } }, /^mouse\.dx: Too big: expected number to be <=500/],
      [{ keys: ['w'], teleport: true }, /^action: Unrecognized key: "teleport"/],
      ['w', /^action: Invalid input: expected object, received string/],
    ] as const) {
      const checked = env.parseAction(bad);
      expect(checked.ok).toBe(false);
      if (!checked.ok) expect(checked.error).toMatch(line);
    }
    expect(server.requests).toHaveLength(0);
    await expect(env.step({ keys: ['w', 's'] })).rejects.toThrow(
      /^the world model refused step 1: keys: w and s pull opposite ways; hold one of them$/,
    );
    // The refused step did not count: the next one is step 1 again.
    expect((await env.step({ keys: ['w'] })).observation.state).toMatchObject({ step: 1 });
    await env.close();
  });

  it('the gridworld agent, pointed at the world model by its eval case, plays it with trials; frames are in the log by digest', async () => {
    const home = tempDir();
    const dir = tempDir();
    const environment = {
      kind: 'world-model',
      url: server.url,
      prompt: 'a grassy plain',
      max_steps: 12,
    };
    writeFileSync(
      join(dir, 'cases.jsonl'),
      [
        { id: 'beacon-2', kind: 'environment', environment, seed: 2, goal: 'Walk to the beacon.' },
        { id: 'beacon-3', kind: 'environment', environment, seed: 3, goal: 'Walk to the beacon.' },
        {
          id: 'too-far',
          kind: 'environment',
          environment: { ...environment, max_steps: 3 },
          seed: 9,
        },
      ]
        .map((c) => JSON.stringify(c))
        .join('\n'),
    );
    writeFileSync(
      join(dir, 'suite.yaml'),
      `agent: ${join(repoRoot, 'examples/gridworld/agent.yaml')}\ndataset: ./cases.jsonl\ntrials: 2\nevaluators:\n  - episode_success\n  - episode_return\n  - invalid_actions\n`,
    );
    const config = loadConfig({ AGENTD_HOME: home });
    const suite = await loadSuite(join(dir, 'suite.yaml'), config);
    const store = new SqliteStore({ path: ':memory:' });
    try {
      const result = await runSuite({ suite, store, config, concurrency: 1 });
      expect(
        result.cases.map((c) => [c.id, c.trials.length, c.trials.map((t) => t.score)]),
      ).toEqual([
        ['beacon-2', 2, [1, 1]],
        ['beacon-3', 2, [1, 1]],
        ['too-far', 2, [expect.any(Number), expect.any(Number)]],
      ]);
      expect(result.cases[2]!.status).toBe('failed');
      expect(result.cases[2]!.evaluators.episode_success?.mean).toBe(0);
      const run = result.cases[1]!.trials[0]!.runId!;
      const episode = episodeRecord(await store.readEvents(run))!;
      // Beacon at x = 4 + seed; the agent starts at x = 2 facing it: 5 steps forward.
      expect(episode).toMatchObject({
        environment: 'world-model',
        terminated: true,
        return: 1,
        seed: 3,
      });
      expect(episode.steps).toHaveLength(5);
      expect(episode.frames).toHaveLength(1 + 5); // the reset's frame, then one a step
      for (const digest of episode.frames)
        expect(existsSync(join(home, 'frames', `${digest}.png`))).toBe(true);
      // The log holds frames by digest, never their bytes.
      expect(JSON.stringify(await store.readEvents(run))).not.toMatch(/iVBORw0KGgo/);
      // Played back: the reset's frame and one a step, inlined from the frame store.
      const trajectory = trajectoryOf(await store.readEvents(run))!;
      expect(trajectory).toMatchObject({ environment: 'world-model', seed: 3, success: true });
      const html = replayHtml(trajectory, new FrameStore(join(home, 'frames')));
      const json = /<script id="frames" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!;
      const frames = JSON.parse(json) as { caption: string; image?: string }[];
      expect(frames.map((f) => f.caption)).toEqual([
        'reset',
        ...[1, 2, 3, 4].map(
          (n) =>
            `step ${n}: {"keys":["w"],"mouse":{"dx":0,"dy":0,"left":false,"right":false},"ticks":1} · reward 0 · return 0`,
        ),
        'step 5: {"keys":["w"],"mouse":{"dx":0,"dy":0,"left":false,"right":false},"ticks":1} · reward 1 · return 1 · terminated',
      ]);
      expect(frames.every((f) => f.image?.startsWith('data:image/png;base64,iVBORw0KGgo'))).toBe(
        true,
      );
    } finally {
      await store.close();
    }
  });
});
