import { dirname, resolve } from 'node:path';
import type { ChatWrapper } from 'node-llama-cpp';
import type { Config } from '../../config/config.ts';
import { AgentdError, errorMessage } from '../../core/errors.ts';
import type { AgentSpec } from '../../definition/agent-spec.ts';
import { AiSdkModel } from '../ai-sdk-model.ts';
import { findModel } from '../catalog.ts';
import { effortFor, type ResolvedModel } from '../providers.ts';
import { discoverServers } from './discovery.ts';
import { modelFolders, resolveGgufPath } from './gguf-file.ts';
import { formatParameters, localCatalogEntry } from './gguf-info.ts';
import { loadModel } from './llama-runtime.ts';
import { LocalModel } from './local-model.ts';
import { describeTemplate, thoughtSegment, thoughtShare } from './thinking.ts';

/**
 * `local/<path-or-name>.gguf`: the file found, loaded (once per process) and described by its
 * own metadata. Every failure (no file, not a GGUF, too big, no binary) is one line.
 */
export async function resolveLocalModel(spec: AgentSpec, config: Config): Promise<ResolvedModel> {
  const path = resolveGgufPath(
    spec.modelId,
    dirname(resolve(spec.path)),
    modelFolders(config.home, config.local?.modelDirs),
  );
  const loaded = await loadModel(path, spec.providerOptions.local);
  const general = loaded.model.fileInfo.metadata.general ?? {};
  const entry = localCatalogEntry(
    spec.modelId,
    { name: general.name ?? spec.modelId, license: general.license },
    loaded.context.contextSize,
  );
  const template = spec.providerOptions.chatTemplate ?? 'auto';
  let wrapper: ChatWrapper;
  try {
    wrapper = loaded.chatWrapperFor(template);
  } catch (error) {
    throw new AgentdError(
      'spec_invalid',
      `${spec.path}: provider.chat_template: ${template}: node-llama-cpp cannot make that chat template for ${path} (${errorMessage(error)}); pick another or remove provider.chat_template`,
    );
  }
  const thought = thoughtSegment(wrapper, loaded.model);
  const effort = spec.settings.effort;
  if (effort && !thought) {
    throw new AgentdError(
      'spec_invalid',
      `${spec.path}: effort: ${effort}: local/${spec.modelId} uses ${describeTemplate(wrapper)}, which has no thinking segment to budget; remove effort, or set provider.chat_template to the reasoning template the model was trained on (${reasoningTemplates.join(', ')})`,
    );
  }
  const insights = loaded.model.fileInsights;
  const notices = [
    `local/${spec.modelId}: ${entry.displayName} (${loaded.model.fileInfo.metadata.general?.architecture ?? 'unknown'}, ${formatParameters(insights.totalParameters)} parameters) from ${path}, ${loaded.context.contextSize} tokens of context, ${loaded.sequences} generations at once, ${describeTemplate(wrapper)}`,
  ];
  if (effort) {
    notices.push(
      thoughtShare[effort] > 0
        ? `local/${spec.modelId}: effort ${effort} lets the model think for up to ${Math.round(thoughtShare[effort] * 100)}% of each answer's output tokens`
        : `local/${spec.modelId}: effort ${effort}: the model answers without thinking`,
    );
  }
  return {
    model: new LocalModel(spec.modelId, entry, loaded, wrapper, thought),
    notices,
    secrets: [],
    ...(effort ? { effort } : {}),
  };
}

/** node-llama-cpp's chat templates with a thought segment, named in the refusal of effort. */
const reasoningTemplates = ['qwen', 'deepSeek', 'seed', 'gemma4', 'harmony'] as const;

/**
 * `ollama/<model>`: Ollama's OpenAI-compatible API at `provider.base_url`, `providers.ollama`
 * in config.yaml or OLLAMA_HOST, else the Ollama found on 127.0.0.1.
 */
export async function resolveOllamaModel(spec: AgentSpec, config: Config): Promise<ResolvedModel> {
  const notices: string[] = [];
  const configured =
    spec.providerOptions.baseUrl ??
    config.providers.ollama?.base_url ??
    ollamaHost(config.env.OLLAMA_HOST);
  let baseUrl = configured;
  if (!baseUrl) {
    const ollama = (
      await discoverServers({
        ports: config.local?.ports,
        timeoutMs: config.local?.discoveryTimeoutMs,
      })
    ).find((s) => s.kind === 'ollama');
    if (!ollama) {
      throw new AgentdError(
        'model_credentials_missing',
        `${spec.path}: model ollama/${spec.modelId}: no Ollama answers on 127.0.0.1:${(config.local?.ports?.ollama ?? [11434]).join(',')}; start it (ollama serve) or set provider.base_url`,
      );
    }
    if (!ollama.models.some((m) => m.id === spec.modelId || m.id === `${spec.modelId}:latest`)) {
      throw new AgentdError(
        'model_credentials_missing',
        `${spec.path}: model ollama/${spec.modelId}: the Ollama at ${ollama.baseUrl} has no such model (it has ${ollama.models.map((m) => m.id).join(', ') || 'none'}); run ollama pull ${spec.modelId}`,
      );
    }
    baseUrl = ollama.baseUrl;
    notices.push(`ollama/${spec.modelId}: using the Ollama found at ${baseUrl}`);
  }
  const known = findModel('openai-compatible', spec.modelId);
  const entry = known ? { ...known, provider: 'ollama' as const } : undefined;
  if (!entry) {
    notices.push(
      `ollama/${spec.modelId} is not in agentd's model catalog: it runs, but without a known context window. See \`agentd models\`.`,
    );
  }
  const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
  const compatible = createOpenAICompatible({
    name: 'ollama',
    baseURL: baseUrl,
    includeUsage: true,
  });
  const model = new AiSdkModel('ollama', spec.modelId, entry, compatible.chatModel(spec.modelId));
  return { model, notices, secrets: [], ...effortFor(model, spec.settings.effort, notices) };
}

/** OLLAMA_HOST as Ollama reads it (`host:port`, maybe with a scheme) as a /v1 base URL. */
function ollamaHost(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const url = /^https?:\/\//.test(value) ? value : `http://${value}`;
  return `${url.replace(/\/+$/, '')}/v1`;
}
