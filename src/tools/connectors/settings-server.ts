import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import type { CallToolResult, McpServer } from '@modelcontextprotocol/server';
import { isMap, isScalar, parse, parseDocument } from 'yaml';
import { z } from 'zod';
import { type Config, configSchema, loadConfig } from '../../config/config.ts';
import { SecretBox } from '../../config/secret-box.ts';
import { createRedactor } from '../../core/redact.ts';
import {
  findAgent,
  listAgents,
  specSummary,
  unknownAgent,
} from '../../definition/agent-catalog.ts';
import { loadAgentSpec } from '../../definition/agent-spec.ts';
import { schemaIssue } from '../../definition/yaml-file.ts';
import { openStore } from '../../store/open-store.ts';
import { Registry } from '../registry/registry.ts';
import { describeTransport, type ServerEntry } from '../registry/server-entry.ts';
import { builtinServers, isBuiltinServer } from '../tool-ref.ts';
import { ConnectorError } from './connector-error.ts';
import { connectorServer } from './connector-server.ts';
import { guarded, textResult } from './tool-result.ts';

export interface SettingsConnectorOptions {
  /** agentd's configuration; config.yaml and the registry are read again on every call. */
  config: Config;
  /**
   * Only the reading tools (the default). With false, the tools that change the registry and
   * config.yaml are offered too.
   */
  readOnly?: boolean;
}

const providers = ['anthropic', 'openai', 'openai-compatible'] as const;
type Provider = (typeof providers)[number];

/** The variables the providers read (as src/models/providers.ts does); they win over config.yaml. */
const keyEnv: Record<Provider, string> = {
  anthropic: 'ANTHROPIC_API_KEY',
  openai: 'OPENAI_API_KEY',
  'openai-compatible': 'OPENAI_COMPATIBLE_API_KEY',
};
const baseUrlEnv: Record<Provider, string> = {
  anthropic: 'ANTHROPIC_BASE_URL',
  openai: 'OPENAI_BASE_URL',
  'openai-compatible': 'OPENAI_COMPATIBLE_BASE_URL',
};

const settable = 'durability, agent_dirs, providers.<anthropic|openai|openai-compatible>.base_url';

const reading = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;
const changing = {
  readOnlyHint: false,
  destructiveHint: true,
  idempotentHint: false,
  openWorldHint: false,
} as const;

const agentSchema = z.object({
  name: z.string(),
  path: z.string(),
  model: z.string().optional(),
  description: z.string().optional(),
  valid: z.boolean(),
  error: z.string().optional(),
});

const containmentOut = z.object({
  sandbox: z.string(),
  network: z.boolean(),
  callTimeoutMs: z.number(),
  maxOutputBytes: z.number(),
});

const serverSchema = z.object({
  name: z.string(),
  title: z.string().optional(),
  transport: z.enum(['stdio', 'http']),
  runs_as: z.string(),
  enabled: z.boolean(),
  tools: z.number().int().nullable().describe('null: not listed yet'),
  containment: containmentOut,
  secrets: z.array(z.string()).describe('names only; values are never shown'),
});

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

/**
 * The `settings` connector: agentd's own configuration as tools. It reads the agents this
 * machine has, the MCP servers in the registry and config.yaml; unless read-only, it can
 * enable and disable servers and change a few keys of config.yaml. It never shows a secret
 * value (API keys and server secrets appear as names or as "set"), and cannot set one.
 */
export function createSettingsServer(options: SettingsConnectorOptions): McpServer {
  const readOnly = options.readOnly ?? true;
  const home = options.config.home;
  const env: Readonly<Record<string, string | undefined>> = {
    ...options.config.env,
    AGENTD_HOME: home,
  };
  const configPath = options.config.configPath;
  /** The configuration as it is now (a change made since the run started shows). */
  const current = () => loadConfig(env);

  const server = connectorServer(
    'settings',
    `agentd's own settings: the agents this machine has, the MCP servers in its registry, and ${configPath}. ${
      readOnly
        ? 'Read only: this agent can look but not change anything.'
        : `It can also enable and disable registered servers and set ${settable} in config.yaml.`
    } Secret values (API keys, server secrets) are never shown and cannot be set here.`,
  );

  const withRegistry = async <T>(fn: (registry: Registry) => Promise<T>): Promise<T> => {
    const config = options.config;
    const store = openStore(config);
    try {
      return await fn(new Registry(store, SecretBox.forHome(home, env)));
    } finally {
      await store.close();
    }
  };

  /**
   * Runs a handler; its result never carries a secret value agentd knows of (provider keys,
   * and for the registry's tools the servers' secrets), nor anything shaped like a key.
   */
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

  const serverName = z
    .string()
    .min(1)
    .describe('The name of a registered MCP server, as list_servers shows it');

  server.registerTool(
    'list_agents',
    {
      title: 'List agents',
      description:
        "List the agents this machine has (the specs in $AGENTD_HOME/agents and the folders of config.yaml's agent_dirs): each one's name, spec path, model and description, or, for a broken spec, its one-line error.",
      inputSchema: z.object({}),
      outputSchema: z.object({
        agents: z.array(agentSchema),
        folders: z.array(z.string()),
        notes: z.array(z.string()),
      }),
      annotations: { title: 'List agents', ...reading },
    },
    () =>
      respond(async () => {
        const catalog = listAgents(current());
        const lines = catalog.agents.map((a) =>
          a.valid
            ? `- ${a.name} (${a.model}): ${a.description ?? 'no description'} [${a.path}]`
            : `- ${a.name}: broken: ${a.error}`,
        );
        const text = [
          catalog.agents.length
            ? `${catalog.agents.length} agent${catalog.agents.length === 1 ? '' : 's'} in ${catalog.dirs.join(', ')}:`
            : `No agents in ${catalog.dirs.join(', ')}.`,
          ...lines,
          ...catalog.notes.map((note) => `note: ${note}`),
        ].join('\n');
        return textResult(text, {
          agents: catalog.agents,
          folders: catalog.dirs,
          notes: catalog.notes,
        });
      }),
  );

  server.registerTool(
    'show_agent',
    {
      title: 'Show an agent',
      description:
        "Show one agent's spec as agentd parsed it (model, instructions, tools, connectors, limits), or the one-line error that keeps it from running.",
      inputSchema: z.object({
        name: z.string().min(1).describe('The agent name, as list_agents shows it'),
      }),
      annotations: { title: 'Show an agent', ...reading },
    },
    ({ name }) =>
      respond(async () => {
        const catalog = listAgents(current());
        const agent = findAgent(catalog, name);
        if (!agent) throw new ConnectorError(unknownAgent(catalog, name).message);
        if (!agent.valid) {
          return textResult(`agent "${name}" is broken: ${agent.error}`, { agent });
        }
        const spec = specSummary(loadAgentSpec(agent.path));
        return textResult(JSON.stringify(spec, null, 2), { agent, spec });
      }),
  );

  server.registerTool(
    'list_servers',
    {
      title: 'List MCP servers',
      description: `List the MCP servers registered on this machine: name, transport, whether enabled, how many tools were listed, containment (sandbox, network, limits) and the names of their secrets (never the values). The built-in connectors (${builtinServers.join(', ')}) are not in the registry.`,
      inputSchema: z.object({}),
      outputSchema: z.object({ servers: z.array(serverSchema), builtin: z.array(z.string()) }),
      annotations: { title: 'List MCP servers', ...reading },
    },
    () =>
      respond(
        () =>
          withRegistry(async (registry) => {
            const entries = await registry.list();
            const counts = new Map<string, number>();
            for (const tool of await registry.tools()) {
              counts.set(tool.server, (counts.get(tool.server) ?? 0) + 1);
            }
            const servers = entries.map((e) => serverSummary(e, counts.get(e.name) ?? null));
            const lines = servers.map(
              (s) =>
                `- ${s.name}: ${s.enabled ? 'enabled' : 'disabled'}, ${s.tools === null ? 'tools not listed yet' : `${s.tools} tool${s.tools === 1 ? '' : 's'}`}, ${s.runs_as}, ${describeContainment(s)}${s.secrets.length ? `, secrets: ${s.secrets.join(', ')}` : ''}`,
            );
            const text = [
              servers.length
                ? `${servers.length} registered MCP server${servers.length === 1 ? '' : 's'}:`
                : 'No MCP servers are registered (a person adds them with agentd mcp add).',
              ...lines,
              `Built-in connectors (not in the registry): ${builtinServers.join(', ')}.`,
            ].join('\n');
            return textResult(text, { servers, builtin: [...builtinServers] });
          }),
        true,
      ),
  );

  server.registerTool(
    'show_server',
    {
      title: 'Show an MCP server',
      description:
        'Show one registered MCP server: how it runs, where it came from, its containment, roots, environment variables and headers, the names of its secrets (never the values), and its tools with their descriptions.',
      inputSchema: z.object({ name: serverName }),
      annotations: { title: 'Show an MCP server', ...reading },
    },
    ({ name }) =>
      respond(
        () =>
          withRegistry(async (registry) => {
            const entry = await registry.get(checkNotBuiltin(name));
            const tools = await registry.tools(name);
            const shown = {
              ...serverSummary(entry, tools.length || null),
              ...(entry.description ? { description: entry.description } : {}),
              ...(entry.version ? { version: entry.version } : {}),
              source: entry.source,
              roots: entry.roots,
              env: entry.env,
              headers: entry.headers,
              tool_list: tools.map((t) => ({ name: t.name, description: t.description })),
            };
            return textResult(JSON.stringify(shown, null, 2), shown);
          }),
        true,
      ),
  );

  if (!readOnly) {
    for (const [verb, enabled] of [
      ['enable', true],
      ['disable', false],
    ] as const) {
      server.registerTool(
        `${verb}_server`,
        {
          title: `${enabled ? 'Enable' : 'Disable'} an MCP server`,
          description: enabled
            ? 'Enable a registered MCP server in the registry, so agents whose specs name its tools can use it (from their next run).'
            : 'Disable a registered MCP server in the registry: agents whose specs name its tools will not start until it is enabled again. Runs already going keep it.',
          inputSchema: z.object({ name: serverName }),
          annotations: { title: `${enabled ? 'Enable' : 'Disable'} an MCP server`, ...changing },
        },
        ({ name }) =>
          respond(
            () =>
              withRegistry(async (registry) => {
                const before = await registry.get(checkNotBuiltin(name));
                await registry.update(name, (entry) => ({ ...entry, enabled }));
                const state = enabled ? 'enabled' : 'disabled';
                return textResult(
                  before.enabled === enabled
                    ? `"${name}" was already ${state}`
                    : `"${name}" is now ${state}`,
                  { name, enabled },
                );
              }),
            true,
          ),
      );
    }
  }

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

  return server;
}

function checkNotBuiltin(name: string): string {
  if (isBuiltinServer(name)) {
    throw new ConnectorError(
      `"${name}" is a built-in connector, not a registered server: it cannot be shown, enabled or disabled here (an agent has it when its spec names its tools)`,
    );
  }
  return name;
}

function serverSummary(entry: ServerEntry, tools: number | null): z.output<typeof serverSchema> {
  return {
    name: entry.name,
    ...(entry.title ? { title: entry.title } : {}),
    transport: entry.transport.type,
    runs_as: describeTransport(entry),
    enabled: entry.enabled,
    tools,
    containment: { ...entry.containment },
    secrets: [...entry.secrets, ...entry.secretHeaders],
  };
}

function describeContainment(server: z.output<typeof serverSchema>): string {
  const c = server.containment;
  if (server.transport === 'http') return `remote, ${c.callTimeoutMs} ms a call`;
  const sandbox =
    c.sandbox === 'none'
      ? 'no sandbox'
      : c.sandbox === 'auto'
        ? 'sandboxed where bwrap is installed'
        : 'bubblewrap sandbox';
  return `${sandbox}, ${c.network ? 'network' : 'no network'}, ${c.callTimeoutMs} ms a call`;
}

/** The key's path in config.yaml, or a one-line refusal. */
function settingPath(key: string, configPath: string): string[] {
  if (key === 'durability' || key === 'agent_dirs') return [key];
  const provider = /^providers\.([^.]+)\.([^.]+)$/.exec(key);
  if (/api_key/.test(key)) {
    throw new ConnectorError(
      `set_config: API keys cannot be set through the settings connector; a person puts them in ${configPath} or the provider's environment variable (${Object.values(keyEnv).join(', ')})`,
    );
  }
  if (provider && provider[2] === 'base_url') {
    if (!(providers as readonly string[]).includes(provider[1]!)) {
      throw new ConnectorError(
        `set_config: unknown provider "${provider[1]}" in "${key}" (known: ${providers.join(', ')})`,
      );
    }
    return ['providers', provider[1]!, 'base_url'];
  }
  throw new ConnectorError(`set_config: "${key}" cannot be set here (settable: ${settable})`);
}

/**
 * Changes one key of config.yaml through the YAML document, so comments, order and every
 * other key stay; the result is validated before anything is written, and written whole
 * (a temporary file renamed over it).
 */
function writeSetting(
  configPath: string,
  key: string,
  path: string[],
  value: string | string[] | null,
): string {
  const exists = existsSync(configPath);
  const before = exists ? readFileSync(configPath, 'utf8') : '';
  const doc = parseDocument(before);
  const unchanged = `${configPath} is unchanged`;
  if (doc.errors.length) {
    const line = doc.errors[0]!.linePos?.[0]?.line;
    throw new ConnectorError(
      `set_config: ${configPath} is not valid YAML${line ? ` (line ${line})` : ''}; a person must fix it first; ${unchanged}`,
    );
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new ConnectorError(`set_config: ${configPath} is not a mapping of keys; ${unchanged}`);
  }
  if (value === null) {
    doc.deleteIn(path);
    // A provider left with nothing, and then `providers:` itself, go too.
    for (const parent of [path.slice(0, -1), path.slice(0, -2)]) {
      if (parent.length === 0) continue;
      const node = doc.getIn(parent, true);
      if (isMap(node) && node.items.length === 0) doc.deleteIn(parent);
    }
  } else {
    // An empty `providers:` or `openai:` is null in YAML; make it a mapping to set into.
    for (let i = 1; i < path.length; i++) {
      const node = doc.getIn(path.slice(0, i), true);
      if (node === undefined || (isScalar(node) && node.value === null)) {
        doc.setIn(path.slice(0, i), doc.createNode({}));
      }
    }
    // A plain string keeps the comment of the value it replaces; a list needs a node.
    doc.setIn(path, Array.isArray(value) ? doc.createNode(value) : value);
  }
  const issue = schemaIssue(configSchema(), doc.toJS() ?? {});
  if (issue) throw new ConnectorError(`set_config ${key}: ${issue}; ${unchanged}`);
  const after = doc.contents === null ? '' : doc.toString();
  const shown = value === null ? 'removed' : `set to ${JSON.stringify(value)}`;
  if (after === before)
    return `${key} was already ${shown.replace('set to ', '')} in ${configPath}`;
  const target = exists ? realpathSync(configPath) : configPath;
  mkdirSync(dirname(target), { recursive: true });
  const mode = exists ? statSync(target).mode & 0o777 : 0o600;
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, after, { mode });
  chmodSync(temporary, mode);
  renameSync(temporary, target);
  return `${key} ${shown} in ${configPath}; it applies to agentd commands and runs started from now on`;
}

/** config.yaml as plain data, however it is (for showing what it says, and finding keys). */
function readConfigFile(configPath: string): { exists: boolean; data: Record<string, unknown> } {
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
