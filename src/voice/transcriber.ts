// Which transcriber a command uses: `--transcriber offline | openai[/model] | mistral[/model]
// | openai-compatible/<model>` with keys and base URLs from the environment or config.yaml.
import type { Config } from '../config/config.ts';
import { AgentdError } from '../core/errors.ts';
import { defaultTranscriptionModels } from './catalog.ts';
import { httpTranscriber } from './http-transcription.ts';
import { mistralRealtime } from './mistral-realtime.ts';
import { openaiRealtime } from './openai-realtime.ts';
import { pocketsphinxBatch, pocketsphinxStreaming } from './pocketsphinx.ts';
import type { BatchTranscriber, StreamingTranscriber } from './transcript.ts';

export interface TranscriberChoice {
  provider: 'offline' | 'openai' | 'mistral' | 'openai-compatible';
  model: string;
  baseUrl?: string;
  apiKey?: string;
  keyName?: string;
}

const keyEnv = {
  openai: 'OPENAI_API_KEY',
  mistral: 'MISTRAL_API_KEY',
  'openai-compatible': 'OPENAI_COMPATIBLE_API_KEY',
} as const;
const baseEnv = {
  openai: 'OPENAI_BASE_URL',
  mistral: 'MISTRAL_BASE_URL',
  'openai-compatible': 'OPENAI_COMPATIBLE_BASE_URL',
} as const;
const defaultBase = {
  openai: 'https://api.openai.com/v1',
  mistral: 'https://api.mistral.ai/v1',
} as const;

/** Parses `--transcriber` (default offline) and finds its key and base URL. */
export function chooseTranscriber(
  option: string | undefined,
  mode: 'batch' | 'realtime',
  config: Pick<Config, 'env' | 'providers' | 'configPath'>,
  baseUrlOption?: string,
): TranscriberChoice {
  const value = option ?? 'offline';
  const slash = value.indexOf('/');
  const provider = slash === -1 ? value : value.slice(0, slash);
  const modelPart = slash === -1 ? undefined : value.slice(slash + 1);
  if (provider === 'offline') {
    return { provider, model: modelPart || defaultTranscriptionModels.offline[mode] };
  }
  if (provider !== 'openai' && provider !== 'mistral' && provider !== 'openai-compatible') {
    throw new AgentdError(
      'usage',
      `--transcriber: "${value}" is not a transcriber: use offline, openai[/model], mistral[/model] or openai-compatible/<model> (with --base-url)`,
    );
  }
  const model =
    modelPart ||
    (provider === 'openai-compatible' ? undefined : defaultTranscriptionModels[provider][mode]);
  if (!model) {
    throw new AgentdError(
      'usage',
      '--transcriber: openai-compatible needs a model: openai-compatible/<model>, e.g. openai-compatible/whisper-1',
    );
  }
  const file = config.providers[provider] ?? {};
  const envKey = config.env[keyEnv[provider]];
  const apiKey = envKey || file.api_key;
  const baseUrl =
    baseUrlOption ??
    (config.env[baseEnv[provider]] ||
      file.base_url ||
      (provider === 'openai-compatible' ? undefined : defaultBase[provider]));
  if (!baseUrl) {
    throw new AgentdError(
      'usage',
      `--transcriber openai-compatible needs the server's URL: pass --base-url http://host:port/v1 or set ${baseEnv[provider]}`,
    );
  }
  if (!apiKey && provider !== 'openai-compatible') {
    throw new AgentdError(
      'model_credentials_missing',
      `${keyEnv[provider]} is not set: export ${keyEnv[provider]}=... (or add providers.${provider}.api_key to ${config.configPath}) to transcribe with ${provider}, or use --transcriber offline`,
    );
  }
  return {
    provider,
    model,
    baseUrl,
    ...(apiKey
      ? {
          apiKey,
          keyName: envKey
            ? keyEnv[provider]
            : `providers.${provider}.api_key in ${config.configPath}`,
        }
      : {}),
  };
}

export function batchTranscriber(
  choice: TranscriberChoice,
  env: Readonly<Record<string, string | undefined>>,
  onRetry?: (message: string, delayMs: number) => void,
): BatchTranscriber {
  if (choice.provider === 'offline') return pocketsphinxBatch({ env });
  return httpTranscriber({
    dialect: choice.provider,
    model: choice.model,
    baseUrl: choice.baseUrl!,
    ...(choice.apiKey ? { apiKey: choice.apiKey } : {}),
    ...(choice.keyName ? { keyName: choice.keyName } : {}),
    ...(onRetry ? { onRetry } : {}),
  });
}

export function streamingTranscriber(
  choice: TranscriberChoice,
  env: Readonly<Record<string, string | undefined>>,
): StreamingTranscriber {
  const common = {
    baseUrl: choice.baseUrl!,
    model: choice.model,
    ...(choice.apiKey ? { apiKey: choice.apiKey } : {}),
    ...(choice.keyName ? { keyName: choice.keyName } : {}),
  };
  switch (choice.provider) {
    case 'offline':
      return pocketsphinxStreaming({ env });
    case 'mistral':
      return mistralRealtime(common);
    // A self-hosted Voxtral Realtime (vLLM) or any server speaking OpenAI's realtime protocol.
    case 'openai':
    case 'openai-compatible':
      return { ...openaiRealtime(common), provider: choice.provider };
  }
}
