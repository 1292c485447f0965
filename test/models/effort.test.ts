import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/config.ts';
import type { AgentSpec } from '../../src/definition/agent-spec.ts';
import { createModel, resolveModel } from '../../src/models/providers.ts';
import { FakeProvider, reply } from '../support/fake-provider.ts';
import { collect } from '../support/provider-models.ts';

describe('effort over the wire', () => {
  let fake: FakeProvider;
  beforeAll(async () => {
    fake = await FakeProvider.start();
  });
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  const cases = [
    [
      'anthropic',
      'claude-opus-4-5',
      undefined,
      (b: Record<string, unknown>) => b.output_config,
      { effort: 'high' },
    ],
    [
      'openai',
      'gpt-5.1',
      undefined,
      (b: Record<string, unknown>) => (b.reasoning as { effort?: string })?.effort,
      'high',
    ],
    ['openai', 'gpt-5.1', 'chat', (b: Record<string, unknown>) => b.reasoning_effort, 'high'],
    [
      'openai-compatible',
      'qwen3:8b',
      undefined,
      (b: Record<string, unknown>) => b.reasoning_effort,
      'high',
    ],
  ] as const;

  it.each(cases)(
    '%s %s %s: the request carries the provider’s effort setting',
    async (provider, id, api, pick, expected) => {
      fake.enqueue(reply.text('ok'));
      const model = await createModel({
        provider,
        id,
        apiKey: 'sk-test-effort-0123456789',
        baseUrl: provider === 'anthropic' ? fake.origin : fake.baseUrl,
        ...(api ? { api } : {}),
      });
      const out = await collect(
        model.stream({
          instructions: '',
          messages: [{ role: 'user', text: 'hi' }],
          tools: [],
          settings: { effort: 'high' },
        }),
      );
      expect(out.text).toBe('ok');
      expect(pick(fake.requests[0]!.body as Record<string, unknown>)).toEqual(expected);
    },
  );

  it('sends no effort when none is set', async () => {
    fake.enqueue(reply.text('ok'));
    const model = await createModel({
      provider: 'anthropic',
      id: 'claude-opus-4-5',
      apiKey: 'k',
      baseUrl: fake.origin,
    });
    await collect(
      model.stream({
        instructions: '',
        messages: [{ role: 'user', text: 'hi' }],
        tools: [],
        settings: {},
      }),
    );
    expect((fake.requests[0]!.body as Record<string, unknown>).output_config).toBeUndefined();
  });
});

describe('effort the model does not take', () => {
  const config: Config = {
    home: '/tmp/x',
    dbPath: '/tmp/x/agentd.db',
    configPath: '/tmp/x/config.yaml',
    durability: 'process',
    providers: {},
    env: {
      ANTHROPIC_API_KEY: 'sk-ant-test-0123456789',
      OPENAI_API_KEY: 'sk-test-0123456789abcdef',
    },
  };
  const spec = (model: string, effort: 'low' | 'max'): AgentSpec => {
    const [provider, modelId] = model.split('/') as ['anthropic' | 'openai', string];
    return {
      path: 'a.yaml',
      name: 'a',
      provider,
      modelId,
      providerOptions: {},
      settings: { effort },
      instructions: '',
      tools: [],
      limits: {},
      compaction: {},
      connectors: {},
    };
  };

  it('a level the model lacks: notice, and no effort sent', async () => {
    const resolved = await resolveModel(spec('anthropic/claude-opus-4-5', 'max'), config);
    expect(resolved.effort).toBeUndefined();
    expect(resolved.notices).toEqual([
      'anthropic/claude-opus-4-5 does not take effort max (it takes low, medium, high); running without an effort setting',
    ]);
  });

  it('a model with no effort setting: notice', async () => {
    const resolved = await resolveModel(spec('openai/gpt-4.1', 'low'), config);
    expect(resolved.effort).toBeUndefined();
    expect(resolved.notices).toEqual(['openai/gpt-4.1 has no effort setting; running without one']);
  });

  it('a supported level passes', async () => {
    const resolved = await resolveModel(spec('anthropic/claude-opus-4-5', 'low'), config);
    expect(resolved.effort).toBe('low');
    expect(resolved.notices).toEqual([]);
  });
});
