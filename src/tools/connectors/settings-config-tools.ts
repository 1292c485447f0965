import { z } from 'zod';
import { listAgents } from '../../definition/agent-catalog.ts';
import { settingPath, writeSetting } from './config-setting.ts';
import {
  baseUrlEnv,
  changing,
  keyEnv,
  type Provider,
  providers,
  readConfigFile,
  reading,
  type SettingsTools,
  settable,
} from './settings-tools.ts';
import { textResult } from './tool-result.ts';

const providerOut = z.object({
  base_url: z.string().nullable(),
  base_url_overridden_by: z.string().nullable(),
  api_key_set: z.boolean(),
  api_key_from: z.string().nullable(),
});

const configOut = z.object({
  path: z.string(),
  exists: z.boolean(),
  durability: z.object({
    value: z.enum(['process', 'machine']),
    in_file: z.string().nullable(),
    overridden_by: z.string().nullable(),
  }),
  providers: z.record(z.string(), providerOut),
  agent_dirs: z.array(z.object({ as_written: z.string(), path: z.string() })),
});

/** The `settings` tools about config.yaml: get_config, and unless read-only set_config. */
export function registerConfigTools(tools: SettingsTools): void {
  registerGetConfig(tools);
  registerSetConfig(tools);
}

/** `get_config`: config.yaml with what overrides it, never a key's value. */
function registerGetConfig({ server, respond, current, configPath, env }: SettingsTools): void {
  server.registerTool(
    'get_config',
    {
      title: "Get agentd's config",
      description:
        "Get agentd's configuration (config.yaml, with the environment variables that override it): durability, each provider's base_url and whether an API key is set and where (never the key), and agent_dirs.",
      inputSchema: z.object({}),
      outputSchema: configOut,
      annotations: { title: "Get agentd's config", ...reading },
    },
    () =>
      respond(async () => {
        const config = current();
        const file = readConfigFile(configPath);
        const providerInfo = Object.fromEntries(
          providers.map((p) => {
            const fromFile = config.providers[p];
            const keyFrom = env[keyEnv[p]] ? keyEnv[p] : fromFile?.api_key ? 'config.yaml' : null;
            return [
              p,
              {
                base_url: fromFile?.base_url ? withoutUserinfo(fromFile.base_url) : null,
                base_url_overridden_by: env[baseUrlEnv[p]] ? baseUrlEnv[p] : null,
                api_key_set: keyFrom !== null,
                api_key_from: keyFrom,
              },
            ];
          }),
        );
        const written = (file.data.agent_dirs as string[] | undefined) ?? [];
        const shown = {
          path: configPath,
          exists: file.exists,
          durability: {
            value: config.durability,
            in_file: typeof file.data.durability === 'string' ? file.data.durability : null,
            overridden_by: env.AGENTD_DURABILITY ? 'AGENTD_DURABILITY' : null,
          },
          providers: providerInfo,
          agent_dirs: written.map((dir, i) => ({
            as_written: dir,
            path: config.agentDirs?.[i] ?? dir,
          })),
        };
        const lines = [
          `${configPath}${file.exists ? '' : ' (not created yet: defaults apply)'}`,
          `durability: ${config.durability}${shown.durability.overridden_by ? ' (from AGENTD_DURABILITY)' : shown.durability.in_file ? '' : ' (default)'}`,
          'providers:',
          ...providers.map((p) => {
            const info = providerInfo[p]!;
            return `  ${p}: API key ${info.api_key_from ? `set (${info.api_key_from})` : 'not set'}; base_url ${info.base_url ?? 'not set'}${info.base_url_overridden_by ? ` (${info.base_url_overridden_by} overrides it)` : ''}`;
          }),
          `agent_dirs: ${written.length ? shown.agent_dirs.map((d) => d.path).join(', ') : 'none'}`,
        ];
        return textResult(lines.join('\n'), shown);
      }),
  );
}

/** `set_config`, unless read-only: one key of config.yaml changed. */
function registerSetConfig({
  server,
  respond,
  current,
  configPath,
  env,
  readOnly,
}: SettingsTools): void {
  if (!readOnly) {
    server.registerTool(
      'set_config',
      {
        title: "Change agentd's config",
        description: `Set one key of ${configPath}, keeping its comments and other keys: ${settable}. The result is checked before the file is written; a bad value is refused and the file left as it was. value null removes the key. API keys cannot be set here. Changes apply to agentd commands and runs started afterwards.`,
        inputSchema: z.object({
          key: z.string().min(1).describe(`One of: ${settable}`),
          value: z
            .union([z.string(), z.array(z.string()), z.null()])
            .describe(
              'durability: "process" or "machine"; base_url: an http(s) URL; agent_dirs: a list of folders (relative to AGENTD_HOME, ~/ for home); null removes the key',
            ),
        }),
        annotations: { title: "Change agentd's config", ...changing },
      },
      ({ key, value }) =>
        respond(async () => {
          const path = settingPath(key, configPath);
          const message = writeSetting(configPath, key, path, value);
          const notes: string[] = [];
          const overriddenBy =
            key === 'durability'
              ? 'AGENTD_DURABILITY'
              : path[0] === 'providers'
                ? baseUrlEnv[path[1] as Provider]
                : undefined;
          if (overriddenBy && env[overriddenBy]) {
            notes.push(`${overriddenBy} is set in this environment and overrides it`);
          }
          if (key === 'agent_dirs') {
            const catalog = listAgents(current());
            notes.push(
              `${catalog.agents.length} agent${catalog.agents.length === 1 ? '' : 's'} found`,
              ...catalog.notes,
            );
          }
          return textResult([message, ...notes].join('; '), { key, value });
        }),
    );
  }
}

/** A URL as it may be shown: without a user name or password in it. */
function withoutUserinfo(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return `${parsed.toString()} (credentials in the URL not shown)`;
  } catch {
    return url;
  }
}
