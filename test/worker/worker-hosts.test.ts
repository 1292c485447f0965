import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PostgresStore } from '../../src/store/postgres/postgres-store.ts';
import { tempDir } from '../support/temp-dir.ts';
import { cluster, eventually, postgresUrl, WorkerProcess } from './support/cluster.ts';
import { workerProject } from './support/project.ts';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * A host of its own: a network namespace joined to this one by a veth pair, 10.<net>.<n>.2
 * inside and 10.<net>.<n>.1 here, where a TCP relay passes its connections on to the Postgres server
 * (which listens on loopback only). Nothing but the test's own addresses.
 */
async function host(
  n: number,
  tag: string,
  net: number,
): Promise<{ ns: string; address: string; relay: Server }> {
  const ns = `agentd-${tag}-${n}`;
  const outside = `ad${tag.slice(0, 6)}${n}o`;
  const inside = `ad${tag.slice(0, 6)}${n}i`;
  ip('netns', 'add', ns);
  namespaces.push(ns);
  ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
  ip('link', 'set', inside, 'netns', ns);
  ip('addr', 'add', `10.${net}.${n}.1/30`, 'dev', outside);
  ip('link', 'set', outside, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `10.${net}.${n}.2/30`, 'dev', inside);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', inside, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  const target = new URL(postgresUrl);
  const relay = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const upstream = createConnection(Number(target.port || 5432), target.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  relays.push(relay);
  await new Promise<void>((resolve) => relay.listen(0, `10.${net}.${n}.1`, resolve));
  return { ns, address: `10.${net}.${n}.1`, relay };
}

const namespaces: string[] = [];
const relays: Server[] = [];
const sockets = new Set<Socket>();
const stores: PostgresStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const socket of sockets) socket.destroy();
  await Promise.all(relays.splice(0).map((r) => new Promise((resolve) => r.close(resolve))));
  // deleting a namespace deletes its end of the veth pair, and so the pair
  for (const ns of namespaces.splice(0)) ip('netns', 'del', ns);
});

describe('workers on hosts of their own (network namespaces)', () => {
  it('three workers, each in its own namespace reaching Postgres over a veth pair, run the runs; one killed, the others finish its runs', async () => {
    const dir = tempDir();
    const { spec, effects } = workerProject(dir, [['count'], ['count'], ['count']]);
    const { store, manager, url } = await cluster(dir);
    const tag = randomBytes(3).toString('hex');
    const net = 100 + randomInt(150);
    const hosts = await Promise.all([1, 2, 3].map((n) => host(n, tag, net)));

    let killed: WorkerProcess | undefined;
    const workers = hosts.map((h) => {
      const there = new URL(url);
      there.hostname = h.address;
      there.port = String((h.relay.address() as { port: number }).port);
      return new WorkerProcess({
        home: dir,
        url: there.toString(),
        env: { WORKER_EFFECTS: effects },
        args: ['--lease', '1000', '--concurrency', '2'],
        prefix: ['ip', 'netns', 'exec', h.ns],
        onEvent: (event, from) => {
          if (!killed && event.type === 'tool.result') {
            killed = from;
            from.kill('SIGKILL');
          }
        },
      });
    });
    await Promise.all(workers.map((w) => w.waitFor(/taking runs/, 'start')));
    // inside a namespace, the host's loopback Postgres is out of reach: only the veth leads out
    expect(() =>
      execFileSync(
        'ip',
        [
          'netns',
          'exec',
          hosts[0]!.ns,
          process.execPath,
          '-e',
          `require('net').connect(5432, '127.0.0.1').on('error', () => process.exit(3)).on('connect', () => process.exit(0))`,
        ],
        { stdio: 'ignore' },
      ),
    ).toThrow();

    const ids: string[] = [];
    for (let i = 0; i < 12; i++)
      ids.push(await manager.start({ specPath: spec, task: `t${i}`, cwd: dir }));
    await eventually(
      async () => {
        const runs = await Promise.all(ids.map((id) => store.getRun(id)));
        return runs.every((r) => r?.status === 'completed') ? true : undefined;
      },
      'every run to complete',
      () => workers.map((w) => w.out.slice(-400)).join('\n---\n'),
    );
    expect(killed).toBeDefined();
    const resumed = (await Promise.all(ids.map((id) => store.readEvents(id))))
      .flat()
      .filter((e) => e.type === 'run.resumed');
    expect(resumed.length).toBeGreaterThanOrEqual(1);
    // the survivors took runs: more than one host worked
    const takers = workers.filter((w) => /^take /m.test(w.out));
    expect(takers.length).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
