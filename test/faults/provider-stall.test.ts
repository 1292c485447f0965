import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { agentd } from '../support/cli.ts';
import { FakeProvider, reply } from '../support/fake-provider.ts';
import { tempDir } from '../support/temp-dir.ts';

/**
 * A provider that accepts the request, sends its headers (or not even those) and then
 * nothing: each attempt is given up after the stall timeout and retried; the run then fails
 * with one line, recorded whole, and the same task goes through once the provider answers.
 */
async function stallingProvider(
  headers: boolean,
): Promise<{ url: string; requests: () => number }> {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server: Server = createServer((_request, response) => {
    requests++;
    if (headers) {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.flushHeaders();
    }
    // and nothing more
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/v1`, requests: () => requests };
}

const key = 'sk-test-stall-0123456789abcdefghijklmnop';

describe('a provider that stalls', () => {
  for (const headers of [true, false]) {
    it(`${headers ? 'after its headers' : 'before its headers'}: retried, then one line and a failed run; fine once it answers`, async () => {
      const home = tempDir();
      const provider = await stallingProvider(headers);
      const env = {
        OPENAI_API_KEY: key,
        OPENAI_BASE_URL: provider.url,
        AGENTD_MODEL_STALL_TIMEOUT: '1',
      };
      const run = await agentd(
        ['run', 'examples/unit-converter/agent.yaml', '1 km in mi', '--json'],
        {
          home,
          env,
        },
      );
      expect(run.code, run.stderr).not.toBe(0);
      expect(run.code).not.toBe(70);
      expect(run.stderr).not.toContain('internal error');
      expect(provider.requests()).toBe(6); // the first attempt and five retries
      const events = run.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as RunEvent);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
      expect(events.filter((e) => e.type === 'model.retry')).toHaveLength(5);
      const finished = events.at(-1)!;
      expect(finished).toMatchObject({ type: 'run.finished', data: { status: 'failed' } });
      expect(JSON.stringify(finished.data)).toMatch(
        /the provider sent nothing for 1 s and the call was given up \(try again later; AGENTD_MODEL_STALL_TIMEOUT sets the wait\) \(gave up after 6 attempts\)/,
      );

      // the fault gone: the provider answers, the same task completes
      const fake = await FakeProvider.start();
      onTestFinished(() => fake.close());
      fake.enqueue(reply.text('1 km is 0.62 mi.', { usage: { inputTokens: 10, outputTokens: 5 } }));
      const again = await agentd(['run', 'examples/unit-converter/agent.yaml', '1 km in mi'], {
        home,
        env: { ...env, OPENAI_BASE_URL: fake.baseUrl },
      });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('0.62 mi');
    }, 120_000);
  }
});
