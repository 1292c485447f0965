import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { agentd } from '../support/cli.ts';
import { FakeProvider, reply } from '../support/fake-provider.ts';
import { tempDir } from '../support/temp-dir.ts';

const key = 'sk-test-cli-0123456789abcdefghijklmnop';

/** The unit converter over the real OpenAI Responses path, against the local fake server. */
describe('agentd run against a provider over HTTP', () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await FakeProvider.start();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  const env = () => ({ OPENAI_API_KEY: key, OPENAI_BASE_URL: fake.baseUrl });

  it('runs the agent on the real provider path, retrying a 429, with priced usage and no key in the log', async () => {
    const home = tempDir();
    fake.enqueue(
      reply.rateLimited(0),
      reply.toolCalls(
        [
          { name: 'convert', input: { value: 10, from: 'km', to: 'mi' } },
          { name: 'convert', input: { value: 1, from: 'lb', to: 'g' } },
        ],
        {
          text: 'Converting both.',
          usage: { inputTokens: 1200, outputTokens: 80, cachedInputTokens: 1000 },
        },
      ),
      reply.text(`10 km is 6.21 mi and 1 lb is 453.59 g. (${key} never leaks)`, {
        usage: { inputTokens: 1400, outputTokens: 40 },
      }),
    );
    const run = await agentd(
      ['run', 'examples/unit-converter/agent.yaml', '10 km in miles, 1 lb in grams'],
      {
        home,
        env: env(),
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('scripted');
    expect(run.stderr).toMatch(/↻ openai returned 429: .*; retry 1 in/);
    expect(run.stderr).toMatch(/← convert 10 km = 6\.21371192237 mi/);
    expect(run.stderr).toMatch(/← convert 1 lb = 453\.59237 g/);
    expect(run.stdout).toContain('Converting both.');
    expect(run.stdout).toContain('10 km is 6.21 mi');
    expect(run.stderr).toMatch(
      /✓ completed · 2 turns · 2,600 in \(1,000 cached\) \/ 120 out tokens · \$0\.\d{4} · /,
    );

    // the model saw the tool results, in call order, on the second request
    const second = fake.requests.at(-1)!.body as { input: { type?: string; output?: string }[] };
    const outputs = second.input
      .filter((item) => item.type === 'function_call_output')
      .map((i) => i.output);
    expect(outputs).toEqual([
      '10 km = 6.21371192237 mi (kilometre to mile)',
      '1 lb = 453.59237 g (pound to gram)',
    ]);
    expect(fake.requests[0]!.headers.authorization).toBe(`Bearer ${key}`);

    const id = /run (run_\w+) · agentd runs show/.exec(run.stderr)![1]!;
    const exported = await agentd(['runs', 'export', id], { home });
    expect(exported.stdout).not.toContain(key);
    expect(exported.stdout).toContain('[redacted] never leaks');
    const events = exported.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
    expect(events.filter((e) => e.type === 'model.retry')).toHaveLength(1);
    const costs = events.flatMap((e) => (e.type === 'model.response' ? [e.data.costUsd] : []));
    expect(costs.every((c) => typeof c === 'number' && c > 0)).toBe(true);
    const show = await agentd(['runs', 'show', id], { home });
    expect(show.stdout).toMatch(/model\.retry +attempt 1 after .*openai returned 429/);
    expect(show.stdout).toMatch(/openai\/gpt-6-luna · completed/);
  });

  it('fails the run with the provider message on a rejected key, exit 1', async () => {
    const home = tempDir();
    fake.enqueue(reply.unauthorized());
    const run = await agentd(['run', 'examples/unit-converter/agent.yaml', 'convert'], {
      home,
      env: env(),
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /error: openai returned 401: Incorrect API key provided: .* \(check OPENAI_API_KEY\)\n/,
    );
    expect(run.stderr).toMatch(/✗ failed \(model_error\)/);
    expect(run.stderr).not.toContain(key);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const list = await agentd(['runs', 'list', '--json'], { home });
    expect(JSON.parse(list.stdout.trim())).toMatchObject({
      status: 'failed',
      reason: 'model_error',
    });
  });

  it('warns about a model the catalog does not know and runs it without a price', async () => {
    const home = tempDir();
    fake.enqueue(reply.text('hello'));
    const run = await agentd(
      ['run', 'examples/unit-converter/agent.yaml', 'hi', '--model', 'openai/gpt-unknown-9'],
      {
        home,
        env: env(),
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /note: openai\/gpt-unknown-9 is not in agentd's model catalog: it runs, but without a price/,
    );
    expect(run.stderr).toMatch(/· cost unknown · /);
  });
});
