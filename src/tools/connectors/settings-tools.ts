import { readFileSync } from 'node:fs';
import type { CallToolResult, McpServer } from '@modelcontextprotocol/server';
import { parse } from 'yaml';
import { type Config, loadConfig } from '../../config/config.ts';
import { SecretBox } from '../../config/secret-box.ts';
import { createRedactor } from '../../core/redact.ts';
import { openStore } from '../../store/open-store.ts';
import { Registry } from '../registry/registry.ts';
import { guarded } from './tool-result.ts';

/** What every tool of the `settings` connector is built with. */
export interface SettingsTools {
  server: McpServer;
  /** Only the reading tools are registered. */
  readOnly: boolean;
  env: Readonly<Record<string, string | undefined>>;
  configPath: string;
  /** The configuration as it is now (a change made since the run started shows). */
  current: () => Config;
  /** Runs `fn` on the registry, in a store opened for it and closed after. */
  withRegistry: <T>(fn: (registry: Registry) => Promise<T>) => Promise<T>;
  /**
   * Runs a handler; its result never carries a secret value agentd knows of (provider keys,
   * and for the registry's tools the servers' secrets), nor anything shaped like a key.
   */
  respond: (run: () => Promise<CallToolResult>, registry?: boolean) => Promise<CallToolResult>;
}

export const providers = ['anthropic', 'openai', 'openai-compatible'] as const;
export type Provider = (typeof providers)[number];

/** The variables the providers read (as src/models/providers.ts does); they win over config.yaml. */
export const keyEnv: Record<Provider, string> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  'openai-compatible': 'OPENAI_COMPATIBLE_API_KEY',
};
export const baseUrlEnv: Record<Provider, string> = {
  anthropic: 'ANTHROPIC_BASE_URL',
  openai: 'OPENAI_BASE_URL',
  'openai-compatible': 'OPENAI_COMPATIBLE_BASE_URL',
};

export const settable =
  'durability, agent_dirs, providers.<anthropic|openai|openai-compatible>.base_url';

export const reading = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;
export const changing = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: false,
} as const;

/** The tools' shared parts for one server, over agentd's configuration. */
export function settingsTools(
  server: McpServer,
  options: { config: Config; readOnly: boolean },
): SettingsTools {
  const { readOnly } = options;
  const home = options.config.home;
  const env: Readonly<Record<string, string | undefined>> = {
    ...options.config.env,
    AGENTD_HOME: home,
  };
  const configPath = options.config.configPath;
  const current = () => loadConfig(env);

  const withRegistry = async <T>(fn: (registry: Registry) => Promise<T>): Promise<T> => {
    const config = options.config;
    const store = openStore(config);
    try {
      return await fn(new Registry(store, SecretBox.forHome(home, env)));
    } finally {
      await store.close();
    }
  };

  const respond = (run: () => Promise<CallToolResult>, registry = false) =>
    guarded(async () => {
      const result = await run();
      const secrets = providerSecrets(configPath, env);
      if (registry) {
        await withRegistry(async (reg) => {
          for (const entry of await reg.list()) {
            secrets.push(...Object.values(await reg.secretsOf(entry.name)));
          }
        });
      }
      return redacted(result, secrets);
    });

  return { server, readOnly, env, configPath, current, withRegistry, respond };
}

/** config.yaml as plain data, however it is (for showing what it says, and finding keys). */
export function readConfigFile(configPath: string): {
  exists: boolean;
  data: Record<string, unknown>;
} {
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch {
    return { exists: false, data: {} };
  }
  try {
    const data: unknown = parse(text);
    return {
      exists: true,
      data: data && typeof data === 'object' ? (data as Record<string, unknown>) : {},
    };
  } catch {
    return { exists: true, data: {} };
  }
}

/** Provider API keys in config.yaml and the environment, and the secret store's key. */
function providerSecrets(
  configPath: string,
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const values: string[] = [];
  const fileProviders = readConfigFile(configPath).data.providers;
  if (fileProviders && typeof fileProviders === 'object') {
    for (const p of Object.values(fileProviders as Record<string, unknown>)) {
      const key = p && typeof p === 'object' ? (p as Record<string, unknown>).api_key : undefined;
      if (typeof key === 'string') values.push(key);
    }
  }
  for (const name of [...Object.values(keyEnv), 'AGENTD_SECRET_KEY']) {
    const value = env[name];
    if (value) values.push(value);
  }
  return values;
}

/** The result with every known secret value, and anything shaped like a key, replaced. */
function redacted(result: CallToolResult, secrets: readonly string[]): CallToolResult {
  const redact = createRedactor(secrets);
  return JSON.parse(redact(JSON.stringify(result))) as CallToolResult;
}
