import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import type { RunEvent } from '../../src/core/events.ts';
import type { JsonValue } from '../../src/core/messages.ts';
import type { StepRecord } from '../../src/environments/episode.ts';
import { episodeRecord } from '../../src/environments/episode-record.ts';
import { decodePng, encodePng } from '../../src/environments/png.ts';
import { WorldModelEnvironment } from '../../src/environments/world-model.ts';
import { resumeRun, runAgent } from '../../src/runtime/agent-loop.ts';
import { prepareAgent } from '../../src/runtime/prepare-agent.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { repoRoot } from '../support/cli.ts';
import { dyingStore } from '../support/dying-store.ts';
import { FakeWorldModel } from '../support/fake-world-model.ts';
import { tempDir } from '../support/temp-dir.ts';

let server: FakeWorldModel;
beforeEach(async () => {
  server = await new FakeWorldModel().start();
});
afterEach(async () => {
  await server.close();
});

function world(url: string, framesDir: string, extra: { image?: Buffer; token?: string } = {}) {
  return new WorldModelEnvironment({ url, prompt: 'a grassy plain', framesDir, ...extra });
}

const digests = (result: { observation: { images?: { digest: string }[] } }) =>
  result.observation.images![0]!.digest;

const sentSteps = () =>
  server.requests
    .filter((r) => r.method === 'WS' && r.path === 'step')
    .map((r) => (r.body as { step: number }).step);

describe('the world-model adapter over a WebSocket', () => {
  it('the same episode over ws:// as over HTTP: the same frames, one socket for the whole episode', async () => {
    const frames = tempDir();
    const actions: JsonValue[] = [
      { keys: ['w'] },
      { mouse: { dx: 50 }, keys: ['w'], ticks: 2 },
      { keys: ['d'] },
    ];
    const overHttp = world(server.url, frames);
    const expected = [(await overHttp.reset(3)).images![0]!.digest];
    for (const action of actions) expected.push(digests(await overHttp.step(action)));
    await overHttp.close();

    const overSocket = world(server.wsUrl, frames);
    const first = await overSocket.reset(3);
    expect(first).toMatchObject({ text: 'A world of a grassy plain.' });
    const got = [first.images![0]!.digest];
    const results = [];
    for (const action of actions) {
      const result = await overSocket.step(action);
      results.push(result);
      got.push(digests(result));
    }
    expect(got).toEqual(expected);
    expect(new Set(got).size).toBe(got.length);
    expect(results[1]).toMatchObject({ reward: 0, terminated: false, info: { distance: 6 } });
    expect(results.map((r) => r.observation.state?.step)).toEqual([1, 2, 3]);
    expect(server.connections).toBe(1);
    expect(server.openSessions).toBe(1);
    await overSocket.close();
    // close ends the session on the server.
    expect(server.openSessions).toBe(0);
    expect(server.requests.filter((r) => r.method === 'WS').map((r) => r.path)).toEqual([
      'start',
      'step',
      'step',
      'step',
      'end',
    ]);
  });

  it('passes the start image and the token as a bearer header on the upgrade, never in the URL; no token is one line', async () => {
    const frames = tempDir();
    server.token = 'world-secret';
    const start = encodePng(1, 1, new Uint8Array([10, 20, 30]));
    const env = world(server.wsUrl, frames, { image: start, token: 'world-secret' });
    const first = await env.reset(0);
    const { rgb } = decodePng(Buffer.from(first.images![0]!.data!, 'base64'));
    expect([...rgb.subarray(0, 3)]).toEqual([10, 20, 30]);
    expect(JSON.stringify(server.requests)).not.toContain('world-secret');
    expect(JSON.stringify(env.settings)).not.toContain('world-secret');
    await env.close();
    const without = world(server.wsUrl, frames);
    await expect(without.reset(0)).rejects.toThrow(
      new Error(
        `the world model at ${server.wsUrl} failed start (HTTP 401): a bearer token is required`,
      ),
    );
    await without.close();
  });

  it('a connection dropped mid-episode: the socket is opened again, the step sent again and answered once', async () => {
    const frames = tempDir();
    const calm = world(server.wsUrl, frames);
    await calm.reset(1);
    const expected = [];
    for (let i = 0; i < 4; i++) expected.push(digests(await calm.step({ keys: ['w'] })));
    await calm.close();

    server.requests.length = 0;
    server.connections = 0;
    const shaky = world(server.wsUrl, frames);
    await shaky.reset(1);
    // The server applies step 2, then drops the socket before answering.
    server.dropAnswerOf.add(2);
    const got = [];
    for (let i = 0; i < 4; i++) got.push(digests(await shaky.step({ keys: ['w'] })));
    expect(got).toEqual(expected);
    expect(sentSteps()).toEqual([1, 2, 2, 3, 4]);
    expect(server.connections).toBe(2);
    await shaky.close();
    expect(server.openSessions).toBe(0);
  });

  it('a server that keeps dropping the socket is one clear line, after three tries', async () => {
    const env = world(server.wsUrl, tempDir());
    await env.reset(1);
    server.dropEverything = true;
    server.requests.length = 0;
    server.connections = 0;
    await expect(env.step({ keys: ['w'] })).rejects.toThrow(
      new RegExp(
        `^the world model at ${server.wsUrl.replace(/\./g, '\\.')} dropped the connection during step 1 \\(tried 3 times\\): the socket closed \\(1006\\)$`,
      ),
    );
    expect(sentSteps()).toEqual([1, 1, 1]);
    expect(server.connections).toBe(2); // the first socket, then one for each try after
    await env.close();
  });

  it('a step never answered is given up after timeout_ms on that socket, tried again on a new one, then one clear line', async () => {
    const env = new WorldModelEnvironment({
      url: server.wsUrl,
      prompt: 'a grassy plain',
      framesDir: tempDir(),
      timeoutMs: 100,
    });
    await env.reset(1);
    server.hangSteps = true;
    server.requests.length = 0;
    server.connections = 0;
    await expect(env.step({ keys: ['w'] })).rejects.toThrow(
      new RegExp(
        `^the world model at ${server.wsUrl.replace(/\./g, '\\.')} dropped the connection during step 1 \\(tried 3 times\\): The operation was aborted due to timeout$`,
      ),
    );
    expect(sentSteps()).toEqual([1, 1, 1]);
    expect(server.connections).toBe(2);
    // The server answers again: the next step goes through on a new socket.
    server.hangSteps = false;
    expect((await env.step({ keys: ['w'] })).observation.state).toMatchObject({ step: 1 });
    await env.close();
  });

  it('a server that is not there is one clear line', async () => {
    const url = server.wsUrl;
    await server.close();
    const env = world(url, tempDir());
    await expect(env.reset(1)).rejects.toThrow(
      new RegExp(
        `^the world model at ${url.replace(/\./g, '\\.')} dropped the connection during start \\(tried 3 times\\): connect ECONNREFUSED`,
      ),
    );
    await env.close();
    server = await new FakeWorldModel().start();
  });

  it('a bad action is refused in one line: before sending it, or by the server (not retried, the socket kept)', async () => {
    const env = world(server.wsUrl, tempDir());
    await env.reset(1);
    server.requests.length = 0;
    const checked = env.parseAction({ keys: ['jump'] });
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.error).toMatch(/^keys\.0: Invalid option: expected one of /);
    await expect(env.step({ keys: ['jump'] })).rejects.toThrow(/^keys\.0: Invalid option/);
    expect(server.requests).toHaveLength(0);
    await expect(env.step({ keys: ['w', 's'] })).rejects.toThrow(
      new Error(
        'the world model refused step 1: keys: w and s pull opposite ways; hold one of them',
      ),
    );
    expect(sentSteps()).toEqual([1]);
    // The refused step did not count: the next one is step 1 again, on the same socket.
    expect((await env.step({ keys: ['w'] })).observation.state).toMatchObject({ step: 1 });
    expect(server.connections).toBe(1);
    await env.close();
  });
});

describe('an agent in a world model over a WebSocket', () => {
  const steps = (events: readonly RunEvent[]) =>
    events.flatMap((e) =>
      e.type === 'tool.result' && e.data.name === 'env_step' && !e.data.isError
        ? [e.data.output as unknown as StepRecord]
        : [],
    );

  function specFile(dir: string): string {
    const path = join(dir, 'agent.yaml');
    writeFileSync(
      path,
      [
        'name: beacon-walker',
        'model: anthropic/claude-sonnet-4-5',
        `script: ${join(repoRoot, 'examples/gridworld/policy.ts')}`,
        'instructions: Walk to the beacon.',
        'environment:',
        '  kind: world-model',
        `  url: ${server.wsUrl}`,
        '  prompt: a grassy plain',
        '  api_key_env: WORLD_MODEL_TOKEN',
        '  seed: 2',
        '  max_steps: 12',
        'limits:',
        '  max_turns: 20',
        '',
      ].join('\n'),
    );
    return path;
  }

  async function prepared(home: string, spec: string) {
    return prepareAgent(
      spec,
      {},
      {
        config: loadConfig({ AGENTD_HOME: home, WORLD_MODEL_TOKEN: 'ws-token-4711' }),
        cwd: home,
      },
    );
  }

  async function run(store: Store, home: string, spec: string) {
    const agent = await prepared(home, spec);
    try {
      return await runAgent({
        store,
        agent: agent.agent,
        task: agent.environment!.task(),
        specPath: spec,
        cwd: home,
      });
    } finally {
      await agent.toolset.close();
    }
  }

  it('reaches the beacon; killed at every point of the episode and resumed by replay over a new socket, no step lost or doubled; the token is in no event', async () => {
    server.token = 'ws-token-4711';
    const home = tempDir();
    const spec = specFile(home);
    const reference = new SqliteStore({ path: ':memory:' });
    const { runId, state } = await run(reference, home, spec);
    expect(state.status).toBe('completed');
    const events = await reference.readEvents(runId);
    const expected = steps(events);
    const appends = events.length;
    // Beacon at x = 4 + seed; the agent starts at x = 2 facing it: 4 steps forward.
    expect(episodeRecord(events)).toMatchObject({
      environment: 'world-model',
      terminated: true,
      return: 1,
    });
    expect(expected).toHaveLength(4);
    expect(expected[0]!.episode).toMatchObject({ settings: { url: server.wsUrl } });
    expect(JSON.stringify(events)).not.toContain('ws-token-4711');
    await reference.close();

    let inDoubtSteps = 0;
    for (let death = 2; death < appends; death += 1) {
      const store = new SqliteStore({ path: ':memory:' });
      try {
        await expect(run(dyingStore(store, death), home, spec)).rejects.toThrow('the process died');
        const before = await store.readEvents((await store.listRuns({ limit: 1 }))[0]!.id);
        const last = before.at(-1)!;
        if (last.type === 'tool.call' && last.data.name === 'env_step') inDoubtSteps++;
        const agent = await prepared(home, spec);
        try {
          const resumed = await resumeRun({ store, runId: before[0]!.runId, agent: agent.agent });
          expect(resumed.state.status, `death at append ${death}`).toBe('completed');
        } finally {
          await agent.toolset.close();
        }
        const after = await store.readEvents(before[0]!.runId);
        expect(
          steps(after).map((s) => [s.step, s.action, s.observation_digest]),
          `death at append ${death}`,
        ).toEqual(expected.map((s) => [s.step, s.action, s.observation_digest]));
        expect(JSON.stringify(after)).not.toContain('ws-token-4711');
      } finally {
        await store.close();
      }
    }
    expect(inDoubtSteps).toBeGreaterThan(0);
    // Every process ended its session: nothing is left open on the server.
    expect(server.openSessions).toBe(0);
  }, 120_000);
});
