import type { Config } from '../config/config.ts';
import { AgentdError } from '../core/errors.ts';
import type { AgentSpec } from '../definition/agent-spec.ts';
import { AiSdkModel } from './ai-sdk-model.ts';
import { type EffortLevel, findModel } from './catalog.ts';
import type { Model } from './model.ts';
import { loadScript, ScriptedModel } from './scripted-model.ts';

export interface ResolvedModel {
  model: Model;
  /** Things the person running the agent should know (fallback to the script, unknown model). */
  notices: string[];
  /** Credentials in use, so they can be redacted wherever text is written. */
  secrets: string[];
  /** Set when the scripted replay stands in for the model. */
  scripted?: { script: string };
  /** The effort to ask for: the spec's, unless the model does not take it. */
  effort?: EffortLevel;
}

const keyEnv = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  'openai-compatible': 'OPENAI_COMPATIBLE_API_KEY',
} as const;
const baseUrlEnv = {
  anthropic: 'ANTHROPIC_BASE_URL',
  openai: 'OPENAI_BASE_URL',
  'openai-compatible': 'OPENAI_COMPATIBLE_BASE_URL',
} as const;

/**
 * The model an agent spec names, with its credentials from the environment or the config
 * file. A missing key is an error before any run starts, unless the spec has a script to
 * fall back to, in which case the replay is used and the notice says so. Only the provider
 * package in use is loaded.
 */
export async function resolveModel(spec: AgentSpec, config: Config): Promise<ResolvedModel> {
  const notices: string[] = [];
  if (spec.provider === 'scripted') {
    return scripted(spec, spec.modelId, notices);
  }
  if (spec.provider === 'local') {
    const { resolveLocalModel } = await import('./local/resolve-local.ts');
    return resolveLocalModel(spec, config);
  }
  if (spec.provider === 'ollama') {
    const { resolveOllamaModel } = await import('./local/resolve-local.ts');
    return resolveOllamaModel(spec, config);
  }
  const provider = spec.provider;
  const fileConfig = config.providers[provider] ?? {};
  const keyVar = spec.providerOptions.apiKeyEnv ?? keyEnv[provider];
  const apiKey = config.env[keyVar] || fileConfig.api_key;
  let baseUrl =
    spec.providerOptions.baseUrl ?? (config.env[baseUrlEnv[provider]] || fileConfig.base_url);

  if (provider === 'openai-compatible' && !baseUrl) {
    const { discoverServers, findServing } = await import('./local/discovery.ts');
    const server = findServing(
      await discoverServers({
        ports: config.local?.ports,
        timeoutMs: config.local?.discoveryTimeoutMs,
      }),
      provider,
      spec.modelId,
    );
    if (!server) {
      throw new AgentdError(
        'model_credentials_missing',
        `${spec.path}: model ${provider}/${spec.modelId} needs a base URL and no server on 127.0.0.1 serves it: set provider.base_url in the spec (e.g. http://localhost:8000/v1 for vLLM) or ${baseUrlEnv[provider]} (\`agentd models --local\` shows what runs here)`,
      );
    }
    baseUrl = server.baseUrl;
    notices.push(
      `${provider}/${spec.modelId}: using the ${server.label} found at ${server.baseUrl}`,
    );
  }
  if (provider !== 'openai-compatible' && !apiKey) {
    if (spec.script) {
      notices.push(
        `${keyVar} is not set, so this run replays the scripted model in ${relativeToCwd(spec.script)} instead of calling ${provider}/${spec.modelId}. Its answers are a script, not a model's; set ${keyVar} to use the real model.`,
      );
      return scripted(spec, spec.name, notices);
    }
    throw new AgentdError(
      'model_credentials_missing',
      `${keyVar} is not set: export ${keyVar}=... (or add providers.${provider}.api_key to ${config.configPath}) to use ${provider}/${spec.modelId}`,
    );
  }

  if (!findModel(provider, spec.modelId)) {
    notices.push(
      `${provider}/${spec.modelId} is not in agentd's model catalog: it runs, but without a price (cost shows as unknown) or known context window. See \`agentd models\`.`,
    );
  }
  const secrets = apiKey ? [apiKey] : [];
  const keySource = config.env[keyVar]
    ? keyVar
    : `providers.${provider}.api_key in ${config.configPath}`;
  const model = await createModel({
    provider,
    id: spec.modelId,
    apiKey,
    baseUrl,
    api: spec.providerOptions.api,
    keyName: keySource,
  });
  return { model, notices, secrets, ...effortFor(model, spec.settings.effort, notices) };
}

export interface HostedModelOptions {
  provider: 'anthropic' | 'openai' | 'openai-compatible';
  id: string;
  apiKey?: string;
  /** Required for openai-compatible. */
  baseUrl?: string;
  /** OpenAI only: the Responses API (default) or Chat Completions. */
  api?: 'responses' | 'chat';
  /** Where the key came from, named when the provider refuses it. */
  keyName?: string;
}

/** A hosted model over its AI SDK provider package (loaded on first use). */
export async function createModel(options: HostedModelOptions): Promise<Model> {
  const { provider, id, apiKey, baseUrl, keyName } = options;
  const entry = findModel(provider, id);
  switch (provider) {
    case 'anthropic': {
      const { createAnthropic } = await import('@ai-sdk/anthropic');
      const anthropic = createAnthropic({ apiKey, baseURL: anthropicBaseUrl(baseUrl) });
      return new AiSdkModel(provider, id, entry, anthropic.messages(id), keyName);
    }
    case 'openai': {
      const { createOpenAI } = await import('@ai-sdk/openai');
      const openai = createOpenAI({ apiKey, baseURL: baseUrl });
      const languageModel = options.api === 'chat' ? openai.chat(id) : openai.responses(id);
      return new AiSdkModel(provider, id, entry, languageModel, keyName);
    }
    case 'openai-compatible': {
      if (!baseUrl)
        throw new AgentdError(
          'model_credentials_missing',
          `openai-compatible/${id} needs a base URL`,
        );
      const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
      const compatible = createOpenAICompatible({
        name: 'openai-compatible',
        baseURL: baseUrl,
        apiKey,
        includeUsage: true,
      });
      return new AiSdkModel(provider, id, entry, compatible.chatModel(id), keyName);
    }
  }
}

/**
 * The effort level to send: what the spec asks, where the catalog says the model takes it;
 * otherwise none, with a notice. Models the catalog does not know get it as asked.
 */
export function effortFor(
  model: Model,
  effort: EffortLevel | undefined,
  notices: string[],
): { effort?: EffortLevel } {
  if (!effort) return {};
  const ref = `${model.provider}/${model.id}`;
  if (model.provider === 'scripted') {
    notices.push(`effort ${effort} is ignored: the scripted replay does not think`);
    return {};
  }
  if (model.provider === 'ollama') return { effort };
  if (!model.entry) return { effort };
  const supported = model.entry.effort ?? [];
  if (!supported.includes(effort)) {
    notices.push(
      supported.length
        ? `${ref} does not take effort ${effort} (it takes ${supported.join(', ')}); running without an effort setting`
        : `${ref} has no effort setting; running without one`,
    );
    return {};
  }
  return { effort };
}

function scripted(spec: AgentSpec, id: string, notices: string[]): ResolvedModel {
  const script = spec.script!;
  const model = new ScriptedModel(id, loadScript(script));
  effortFor(model, spec.settings.effort, notices);
  return {
    model,
    notices,
    secrets: [],
    scripted: { script: relativeToCwd(script) },
  };
}

/** The official SDKs take the host (`https://api.anthropic.com`); the AI SDK wants `/v1` on it. */
function anthropicBaseUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`;
}

function relativeToCwd(path: string): string {
  const cwd = process.cwd();
  return path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}
