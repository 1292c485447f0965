import type { Config } from '../../src/config/config.ts';
import type { ToolCall } from '../../src/core/messages.ts';
import type { AgentSpec } from '../../src/definition/agent-spec.ts';
import type { Model, ModelRequest, ModelStreamPart } from '../../src/models/model.ts';
import { type ResolvedModel, resolveModel } from '../../src/models/providers.ts';
import {
  type RetryingStreamPart,
  type RetryNotice,
  type RetryPolicy,
  streamWithRetry,
} from '../../src/models/retry.ts';
import type { FakeProvider } from './fake-provider.ts';

/** The four ways agentd talks to a hosted model. */
export type Api = 'anthropic' | 'openai-responses' | 'openai-chat' | 'openai-compatible';
export const apis: readonly Api[] = [
  'anthropic',
  'openai-responses',
  'openai-chat',
  'openai-compatible',
];

/** Test keys, one per API; tests check they went out in the right header. */
export const testKeys: Record<Api, string> = {
  anthropic: 'sk-ant-test-key-anthropic',
  'openai-responses': 'sk-test-key-responses',
  'openai-chat': 'sk-test-key-chat',
  'openai-compatible': 'sk-test-key-compatible',
};

export const modelIds: Record<Api, string> = {
  anthropic: 'claude-sonnet-4-5',
  'openai-responses': 'gpt-5.1',
  'openai-chat': 'gpt-4.1',
  'openai-compatible': 'qwen3:8b',
};

/** Small delays so retry tests run fast. */
export const fastRetry: RetryPolicy = { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 5 };

/**
 * A model resolved the way agentd resolves it, pointed at the fake server. Each API takes
 * its key and base URL a different way, so all of resolveModel's sources get exercised:
 * anthropic from the environment, openai responses from the config file, openai chat from
 * the spec plus the environment, openai-compatible from the spec with its own key variable.
 */
export function resolveOn(fake: FakeProvider, api: Api): Promise<ResolvedModel> {
  const key = testKeys[api];
  const spec: AgentSpec = {
    path: 'test/agent.yaml',
    name: 'provider-test',
    provider:
      api === 'anthropic'
        ? 'anthropic'
        : api === 'openai-compatible'
          ? 'openai-compatible'
          : 'openai',
    modelId: modelIds[api],
    providerOptions: {},
    settings: {},
    instructions: '',
    tools: [],
    limits: {},
    compaction: {},
    connectors: {},
  };
  const config: Config = {
    home: '/nonexistent/agentd-home',
    dbPath: '/nonexistent/agentd-home/agentd.db',
    configPath: '/nonexistent/agentd-home/config.yaml',
    durability: 'process',
    providers: {},
    env: {},
  };
  switch (api) {
    case 'anthropic':
      config.env = { ANTHROPIC_API_KEY: key, ANTHROPIC_BASE_URL: fake.origin };
      break;
    case 'openai-responses':
      config.providers = { openai: { api_key: key, base_url: fake.baseUrl } };
      break;
    case 'openai-chat':
      spec.providerOptions = { api: 'chat', baseUrl: fake.baseUrl };
      config.env = { OPENAI_API_KEY: key };
      break;
    case 'openai-compatible':
      spec.providerOptions = { baseUrl: fake.baseUrl, apiKeyEnv: 'VLLM_API_KEY' };
      config.env = { VLLM_API_KEY: key };
      break;
  }
  return resolveModel(spec, config);
}

export async function modelOn(fake: FakeProvider, api: Api): Promise<Model> {
  return (await resolveOn(fake, api)).model;
}

export function simpleRequest(text = 'Hello'): ModelRequest {
  return { instructions: '', messages: [{ role: 'user', text }], tools: [], settings: {} };
}

export type Finish = Extract<ModelStreamPart, { type: 'finish' }>;

/** What a stream produced; text and calls are those of the last attempt. */
export interface Collected {
  text: string;
  textDeltas: number;
  calls: ToolCall[];
  starts: { id: string; name: string }[];
  finish: Finish | undefined;
  retries: RetryNotice[];
  parts: RetryingStreamPart[];
}

export async function collect(
  stream: AsyncIterable<RetryingStreamPart | ModelStreamPart>,
): Promise<Collected> {
  const out: Collected = {
    text: '',
    textDeltas: 0,
    calls: [],
    starts: [],
    finish: undefined,
    retries: [],
    parts: [],
  };
  for await (const part of stream) {
    out.parts.push(part);
    switch (part.type) {
      case 'text-delta':
        out.text += part.text;
        out.textDeltas++;
        break;
      case 'tool-call-start':
        out.starts.push({ id: part.id, name: part.name });
        break;
      case 'tool-call':
        out.calls.push(part.call);
        break;
      case 'finish':
        out.finish = part;
        break;
      case 'retry':
        // A retry starts over: what the failed attempt streamed is dropped.
        out.retries.push(part);
        out.text = '';
        out.textDeltas = 0;
        out.calls = [];
        out.starts = [];
        break;
    }
  }
  return out;
}

/** Streams `request` through `streamWithRetry` with the fast policy and collects it. */
export function run(
  model: Model,
  request: ModelRequest = simpleRequest(),
  options: { policy?: RetryPolicy; random?: () => number; signal?: AbortSignal } = {},
): Promise<Collected> {
  return collect(streamWithRetry(model, request, { policy: fastRetry, ...options }));
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
