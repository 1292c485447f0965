import type { Config } from '../config/config.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';

/** Turns texts into vectors with one model; vectors are stored under its name. */
export interface Embedder {
  /** `provider/model-id` (with `@<dimensions>` when the dimensions were asked for). */
  readonly model: string;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/** Why an embedding call failed, in one line. */
export class EmbeddingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddingError';
  }
}

const keyEnv = { openai: 'OPENAI_API_KEY', 'openai-compatible': 'OPENAI_COMPATIBLE_API_KEY' };
const baseUrlEnv = {
  openai: 'OPENAI_BASE_URL',
  'openai-compatible': 'OPENAI_COMPATIBLE_BASE_URL',
};

/**
 * The embedder config.yaml's `memory.embeddings` names: an OpenAI or OpenAI-compatible
 * embeddings endpoint (a local server such as Ollama or llama.cpp, or a hosted one), through
 * the AI SDK provider packages. Undefined when none is configured. Keys and base URLs come
 * from the environment or `providers:` as for models.
 */
export async function configuredEmbedder(
  config: Config,
): Promise<{ embedder: Embedder; secrets: string[] } | undefined> {
  const settings = config.memory?.embeddings;
  if (!settings) return undefined;
  const slash = settings.model.indexOf('/');
  const provider = settings.model.slice(0, slash) as 'openai' | 'openai-compatible';
  const id = settings.model.slice(slash + 1);
  const fileConfig = config.providers[provider] ?? {};
  const keyVar = settings.api_key_env ?? keyEnv[provider];
  const apiKey = config.env[keyVar] || fileConfig.api_key;
  const baseUrl = settings.base_url ?? (config.env[baseUrlEnv[provider]] || fileConfig.base_url);
  const where = `${config.configPath}: memory.embeddings`;
  if (provider === 'openai-compatible' && !baseUrl) {
    throw new AgentdError(
      'config_invalid',
      `${where}: ${settings.model} needs a base URL: set memory.embeddings.base_url (e.g. http://localhost:11434/v1 for Ollama) or ${baseUrlEnv[provider]}`,
    );
  }
  if (provider === 'openai' && !apiKey) {
    throw new AgentdError(
      'model_credentials_missing',
      `${where}: ${keyVar} is not set: export ${keyVar}=... to embed memories with ${settings.model}, or remove memory.embeddings for full-text recall`,
    );
  }
  let model: import('@ai-sdk/provider').EmbeddingModelV4;
  if (provider === 'openai') {
    const { createOpenAI } = await import('@ai-sdk/openai');
    model = createOpenAI({ apiKey, baseURL: baseUrl }).embeddingModel(id);
  } else {
    const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
    model = createOpenAICompatible({
      name: 'openai-compatible',
      baseURL: baseUrl!,
      ...(apiKey ? { apiKey } : {}),
    }).embeddingModel(id);
  }
  const dimensions = settings.dimensions;
  const name = dimensions ? `${settings.model}@${dimensions}` : settings.model;
  const embedder: Embedder = {
    model: name,
    async embed(texts, signal) {
      if (texts.length === 0) return [];
      const max = (await model.maxEmbeddingsPerCall) ?? 96;
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += max) {
        const values = texts.slice(i, i + max);
        let result: Awaited<ReturnType<typeof model.doEmbed>>;
        try {
          result = await model.doEmbed({
            values,
            ...(dimensions ? { dimensions } : {}),
            ...(signal ? { abortSignal: signal } : {}),
          });
        } catch (error) {
          throw new EmbeddingError(`${name}: ${errorMessage(error)}`, { cause: error });
        }
        if (result.embeddings.length !== values.length) {
          throw new EmbeddingError(
            `${name} returned ${result.embeddings.length} embeddings for ${values.length} texts`,
          );
        }
        for (const embedding of result.embeddings) out.push(Float32Array.from(embedding));
      }
      const dims = out[0]!.length;
      if (dims === 0 || out.some((v) => v.length !== dims)) {
        throw new EmbeddingError(`${name} returned embeddings of different lengths`);
      }
      return out;
    },
  };
  return { embedder, secrets: apiKey ? [apiKey] : [] };
}
