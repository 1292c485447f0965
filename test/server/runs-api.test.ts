import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import type { RunEvent } from '../../src/core/events.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { redactingStore } from '../../src/store/redacting-store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const agentDirs = [join(repoRoot, 'test/fixtures/agents'), join(repoRoot, 'examples')];

function agentdHome(): string {
  const home = tempDir();
  writeFileSync(join(home, 'config.yaml'), `agent_dirs: ${JSON.stringify(agentDirs)}\n`);
  return home;
}

const servers: { server: RunningServer; store: SqliteStore }[] = [];
afterEach(async () => {
  for (const { server, store } of servers.splice(0)) {
    await server.close();
    await store.close();
  }
});

async function serveIn(home: string) {
  const config = loadConfig({ AGENTD_HOME: home });
  const store = new SqliteStore({ path: config.dbPath });
  const lines: string[] = [];
  const server = await startServer({
    store,
    config,
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    log: (line) => lines.push(line),
  });
  const entry = { server, store };
  servers.push(entry);
  const keys = new ApiKeys(store);
  const { key } = await keys.create('tests', ['runs']);
  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${key}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string>),
      },
    });
  const stop = async () => {
    servers.splice(servers.indexOf(entry), 1);
    await server.close();
    await store.close();
  };
  return { server, store, keys, key, call, lines, stop };
}

type Call = Awaited<ReturnType<typeof serveIn>>['call'];

async function startRun(call: Call, agent: string, task = 'go'): Promise<string> {
  const response = await call('/runs', { method: 'POST', body: JSON.stringify({ agent, task }) });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { id: string };
  expect(response.headers.get('location')).toBe(`/runs/${body.id}`);
  return body.id;
}

/** Reads an SSE stream until it ends, or until `stop` says so (then disconnects). */
async function readEvents(
  call: Call,
  runId: string,
  options: { lastEventId?: number; stop?: (event: RunEvent) => boolean } = {},
): Promise<{ ids: number[]; events: RunEvent[] }> {
  const controller = new AbortController();
  const response = await call(`/runs/${runId}/events`, {
    signal: controller.signal,
    headers:
      options.lastEventId === undefined ? {} : { 'last-event-id': String(options.lastEventId) },
  });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const ids: number[] = [];
  const events: RunEvent[] = [];
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        const id = /^id: (\d+)$/m.exec(block);
        const data = /^data: (.*)$/m.exec(block);
        if (!id || !data) continue;
        const event = JSON.parse(data[1]!) as RunEvent;
        ids.push(Number(id[1]));
        events.push(event);
        if (options.stop?.(event)) {
          controller.abort();
          return { ids, events };
        }
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  return { ids, events };
}

/** Waits for a status the test caused; the limit only keeps a broken test from hanging. */
async function waitForStatus(call: Call, runId: string, status: string): Promise<void> {
  const until = Date.now() + 60_000;
  let seen = '';
  while (Date.now() < until) {
    seen = ((await (await call(`/runs/${runId}`)).json()) as { status: string }).status;
    if (seen === status) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`run ${runId} never became ${status} (it is ${seen})`);
}

describe('runs over HTTP', () => {
  it('starts an agent, streams every event once, and shows the result', async () => {
    const { call } = await serveIn(agentdHome());
    const id = await startRun(call, 'unit-converter', 'Convert a marathon to km and 100 F to C');
    const { ids, events } = await readEvents(call, id);
    expect(ids).toEqual(ids.map((_, i) => i));
    expect(events[0]!.type).toBe('run.started');
    expect(events.at(-1)!.type).toBe('run.finished');
    const run = (await (await call(`/runs/${id}`)).json()) as {
      status: string;
      output: string;
      turns: number;
    };
    expect(run).toMatchObject({ status: 'completed', turns: 2 });
    expect(run.output).toContain('km');
    const list = (await (await call('/runs?status=completed')).json()) as {
      runs: { id: string }[];
    };
    expect(list.runs.map((r) => r.id)).toContain(id);
  });

  it('starts a run with tags, lists runs by tag, and changes the tags of a run that stopped', async () => {
    const { call } = await serveIn(agentdHome());
    const post = (path: string, body: unknown) =>
      call(path, { method: 'POST', body: JSON.stringify(body) });
    const started = await post('/runs', {
      agent: 'unit-converter',
      task: 'Convert a marathon to km',
      tags: ['team=api', 'good', 'good'],
    });
    expect(started.status).toBe(201);
    const { id, tags } = (await started.json()) as { id: string; tags: string[] };
    expect(tags).toEqual(['good', 'team=api']);
    const { events } = await readEvents(call, id);
    expect(events[0]).toMatchObject({ type: 'run.started', data: { tags: ['team=api', 'good'] } });
    const other = await startRun(call, 'unit-converter', 'Convert 100 F to C');
    await readEvents(call, other);
    const listed = async (query: string) => {
      const response = await call(`/runs?${query}`);
      expect(response.status).toBe(200);
      return ((await response.json()) as { runs: { id: string }[] }).runs.map((r) => r.id);
    };
    expect(await listed('tag=good')).toEqual([id]);
    expect(await listed('tag=good&tag=team%3Dapi&status=completed')).toEqual([id]);
    expect(await listed('tag=good&tag=nope')).toEqual([]);
    expect(await listed('limit=10')).toEqual([other, id]);

    const changed = await post(`/runs/${id}/tags`, { add: ['reviewed'], remove: ['good'] });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toEqual({ id, tags: ['reviewed', 'team=api'] });
    expect(await listed('tag=good')).toEqual([]);
    expect(await listed('tag=reviewed')).toEqual([id]);
    const { events: after } = await readEvents(call, id, { lastEventId: events.at(-1)!.seq });
    expect(after).toMatchObject([
      { type: 'run.tagged', data: { added: ['reviewed'], removed: ['good'], by: 'tests' } },
    ]);

    const problems: [Response, number, RegExp][] = [
      [
        await post('/runs', { agent: 'unit-converter', task: 'x', tags: ['has space'] }),
        400,
        /^tags\.0: a tag is 1 to 64 of A-Z a-z 0-9/,
      ],
      [await call('/runs?tag=no!'), 400, /^tag: "no!" has "!" \(a tag is/],
      [await post(`/runs/${id}/tags`, {}), 400, /give add or remove/],
      [await post(`/runs/${id}/tags`, { add: ['ok', 'é'] }), 400, /^add\.1: a tag is/],
      [await post('/runs/run_nope/tags', { add: ['x'] }), 404, /no run "run_nope"/],
    ];
    for (const [response, status, detail] of problems) {
      expect(response.status).toBe(status);
      expect(((await response.json()) as { detail: string }).detail).toMatch(detail);
    }

    // a run this server is driving keeps its tags until it stops
    const slow = await startRun(call, 'slow');
    await readEvents(call, slow, { stop: (e) => e.type === 'tool.call' });
    const busy = await post(`/runs/${slow}/tags`, { add: ['late'] });
    expect(busy.status).toBe(409);
    expect(((await busy.json()) as { detail: string }).detail).toMatch(
      new RegExp(
        `^run ${slow} is being run by process .* \\(this one\\); change its tags once it stops`,
      ),
    );
    expect((await call(`/runs/${slow}/cancel`, { method: 'POST' })).status).toBe(202);
    await waitForStatus(call, slow, 'cancelled');
    // the run's driver lets go of its lease just after its last event: until then, 409
    const until = Date.now() + 60_000;
    let status = 409;
    while (status === 409 && Date.now() < until) {
      status = (await post(`/runs/${slow}/tags`, { add: ['late'] })).status;
      if (status === 409) await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe(200);
    expect(await listed('tag=late')).toEqual([slow]);
  });

  it('resumes a dropped event stream from Last-Event-ID without loss or repeats', async () => {
    const { call } = await serveIn(agentdHome());
    const id = await startRun(call, 'slow');
    const first = await readEvents(call, id, { stop: (e) => e.type === 'tool.call' });
    const last = first.ids.at(-1)!;
    const rest = await readEvents(call, id, { lastEventId: last });
    const all = [...first.ids, ...rest.ids];
    expect(all).toEqual(all.map((_, i) => i));
    expect(rest.events.at(-1)!.type).toBe('run.finished');
  });

  it('cancels a running run; a run that is not running cannot be cancelled', async () => {
    const { call } = await serveIn(agentdHome());
    const id = await startRun(call, 'slow');
    await readEvents(call, id, { stop: (e) => e.type === 'tool.call' });
    const cancel = await call(`/runs/${id}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(202);
    await waitForStatus(call, id, 'cancelled');
    const again = await call(`/runs/${id}/cancel`, { method: 'POST' });
    expect(again.status).toBe(409);
    const resumed = await call(`/runs/${id}/resume`, { method: 'POST' });
    expect(resumed.status).toBe(202);
    await waitForStatus(call, id, 'completed');
  });

  it('suspends runs in flight on shutdown and resumes them on the next start', async () => {
    const home = agentdHome();
    const first = await serveIn(home);
    const id = await startRun(first.call, 'slow');
    await readEvents(first.call, id, { stop: (e) => e.type === 'tool.call' });
    await first.stop();
    const check = new SqliteStore({ path: join(home, 'agentd.db') });
    const events = await check.readEvents(id);
    await check.close();
    // The tool call in flight finished and was logged before the run stopped.
    expect(events.map((e) => e.type).slice(-2)).toEqual(['tool.result', 'run.suspended']);
    expect((await (await first.call(`/runs/${id}`).catch(() => undefined))?.status) ?? 0).toBe(0);

    const second = await serveIn(home);
    expect(second.server.resumed).toEqual([id]);
    await waitForStatus(second.call, id, 'completed');
  });

  it('answers bad requests with one clear problem', async () => {
    const { call, keys, server } = await serveIn(agentdHome());
    const unknown = await call('/runs', {
      method: 'POST',
      body: JSON.stringify({ agent: 'nope', task: 'x' }),
    });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { detail: string }).detail).toContain('unit-converter');
    const bad = await call('/runs', { method: 'POST', body: JSON.stringify({ agent: 'slow' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { detail: string }).detail).toMatch(/^task: /);
    const notJson = await call('/runs', { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect((await call('/runs/run_nope')).status).toBe(404);
    expect((await call('/runs?status=sleeping')).status).toBe(400);

    const registryOnly = await keys.create('registry', ['registry']);
    for (const [method, path] of [
      ['GET', '/runs'],
      ['POST', '/runs'],
      ['GET', '/runs/x/events'],
    ] as const) {
      const noKey = await fetch(`${server.url}${path}`, { method });
      expect(noKey.status).toBe(401);
      const scoped = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${registryOnly.key}` },
      });
      expect(scoped.status).toBe(403);
    }
  });

  it('keeps each run’s secrets out of the shared store', async () => {
    const dir = tempDir();
    const store = new SqliteStore({ path: join(dir, 'agentd.db') });
    const secret = 'tok_SHARED_STORE_SECRET_42';
    const view = redactingStore(store, createRedactor([secret]));
    await view.append([
      {
        runId: 'run_x',
        seq: 0,
        at: new Date().toISOString(),
        type: 'run.started',
        data: {
          agent: 'a',
          model: 'scripted/a',
          task: 't',
          instructions: `use ${secret}`,
          tools: [],
          limits: { maxTurns: 1, maxToolRepairs: 1 },
        },
      },
    ]);
    const [event] = await store.readEvents('run_x');
    expect(JSON.stringify(event)).not.toContain(secret);
    expect(JSON.stringify(event)).toContain('[redacted]');
    await store.close();
  });
});

describe('agentd serve killed during a run', () => {
  it('resumes the run when it starts again', async () => {
    const home = agentdHome();
    const config = loadConfig({ AGENTD_HOME: home });
    const setup = new SqliteStore({ path: config.dbPath });
    const { key } = await new ApiKeys(setup).create('tests', ['runs']);
    await setup.close();
    // the tool waits until the server is killed: the kill lands while it runs
    const env = { AGENTD_TEST_WAIT_MS: '600000' };
    let runId = '';
    let phaseError: unknown;
    const killed = await agentd(['serve', '--port', '0'], {
      home,
      env,
      onStdout: (text, kill) => {
        const match = /serving on (http:\/\/\S+)/.exec(text);
        if (!match || runId) return;
        runId = 'starting';
        const watchdog = setTimeout(() => kill('SIGKILL'), 40_000);
        void (async () => {
          const response = await fetch(`${match[1]}/runs`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ agent: 'slow', task: 'wait' }),
          });
          runId = ((await response.json()) as { id: string }).id;
          const store = new SqliteStore({ path: config.dbPath });
          for (;;) {
            const events = await store.readEvents(runId);
            if (events.some((e) => e.type === 'tool.call')) break;
            await new Promise((r) => setTimeout(r, 20));
          }
          await store.close();
        })()
          .catch((error: unknown) => {
            phaseError = error;
          })
          .finally(() => {
            clearTimeout(watchdog);
            kill('SIGKILL');
          });
      },
    });
    expect(phaseError).toBeUndefined();
    expect(killed.code).toBeNull();
    expect(runId).toMatch(/^run_/);

    let stopping = false;
    let finalStatus: string | undefined;
    const restarted = await agentd(['serve', '--port', '0'], {
      home,
      env: { AGENTD_TEST_WAIT_MS: '10' },
      onStdout: (text, kill) => {
        if (!text.includes('serving on') || stopping) return;
        stopping = true;
        // Whatever happens, the server stops: a run that never completes fails the test.
        const watchdog = setTimeout(() => kill('SIGTERM'), 40_000);
        void (async () => {
          const store = new SqliteStore({ path: config.dbPath });
          for (;;) {
            const run = await store.getRun(runId);
            finalStatus = run?.status;
            if (run?.status !== 'running') break;
            await new Promise((r) => setTimeout(r, 20));
          }
          await store.close();
        })()
          .catch((error: unknown) => {
            phaseError = error;
          })
          .finally(() => {
            clearTimeout(watchdog);
            kill('SIGTERM');
          });
      },
    });
    expect(phaseError).toBeUndefined();
    expect(restarted.stdout).toContain(`resumed 1 run(s) the last server left: ${runId}`);
    expect(finalStatus).toBe('completed');
    expect(restarted.code).toBe(0);
  }, 120_000);
});
