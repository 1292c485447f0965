import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Config, loadConfig } from '../../config/config.ts';
import { SecretBox } from '../../config/secret-box.ts';
import { AgentdError, errorMessage } from '../../core/errors.ts';
import { openStore } from '../../store/open-store.ts';
import { McpConnection } from '../../tools/mcp/mcp-connection.ts';
import {
  describeContainment as describeStdioContainment,
  planStdioSpawn,
} from '../../tools/mcp/stdio-containment.ts';
import { checkServerUrl } from '../../tools/registry/entry-values.ts';
import { installNpmServer, NpmInstallFailed } from '../../tools/registry/npm-install.ts';
import {
  formatNpmSpec,
  type NpmPackageSpec,
  npxTransport,
  parseNpmSpec,
} from '../../tools/registry/npm-package-spec.ts';
import { Registry } from '../../tools/registry/registry.ts';
import { serverConfigFor } from '../../tools/registry/server-config.ts';
import {
  type Containment,
  defaultContainment,
  describeTransport,
  type ServerEntry,
  serverNamePattern,
} from '../../tools/registry/server-entry.ts';
import { entryFromServerJson } from '../../tools/registry/server-json.ts';
import { builtinServers, isBuiltinServer } from '../../tools/tool-ref.ts';
import { clip, formatDuration, paint, table } from '../format.ts';

export interface ServerFlags {
  npm?: string;
  url?: string;
  from?: string;
  env?: string[];
  secret?: string[];
  header?: string[];
  arg?: string[];
  root?: string[];
  network?: boolean;
  sandbox?: Containment['sandbox'];
  callTimeout?: number;
  maxOutput?: number;
  disabled?: boolean;
  /** False: `agentd serve`'s gateway offers the server's tools and prompts without `<name>__`. */
  gatewayPrefix?: boolean;
  /** False: register without starting the server to list its tools (`--no-list`). */
  list?: boolean;
  /** False: run npm packages with npx at each start instead of installing them now (`--no-install`). */
  install?: boolean;
}

async function withRegistry<T>(fn: (registry: Registry, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = openStore(config);
  try {
    return await fn(new Registry(store, SecretBox.forHome(config.home)), config);
  } finally {
    await store.close();
  }
}

/**
 * Starts a server, lists its tools into the registry (for search and show), and stops it.
 * Returns their names.
 */
async function listTools(
  registry: Registry,
  config: Config,
  entry: ServerEntry,
): Promise<string[]> {
  const connection = new McpConnection({
    name: entry.name,
    config: serverConfigFor(entry, await registry.secretsOf(entry.name), config.home),
    roots: entry.roots,
  });
  try {
    const definitions = await connection.listTools({ refresh: true });
    await registry.setTools(
      entry.name,
      definitions.map((d) => ({
        name: d.name,
        description: d.description ?? d.title ?? '',
        inputSchema: d.inputSchema,
        ...(d.annotations ? { annotations: d.annotations } : {}),
      })),
    );
    return definitions.map((d) => d.name);
  } finally {
    await connection.close();
  }
}

async function listToolsAndSay(
  registry: Registry,
  config: Config,
  entry: ServerEntry,
): Promise<void> {
  try {
    const names = await listTools(registry, config, entry);
    process.stdout.write(
      `${names.length} tool${names.length === 1 ? '' : 's'}: ${clip(names.join(', '), 200) || 'none'}\n`,
    );
  } catch (error) {
    process.stderr.write(
      `${paint('yellow', 'note:')} could not list ${entry.name}'s tools: ${errorMessage(error)} (fix it with agentd mcp configure ${entry.name}, then agentd mcp refresh ${entry.name})\n`,
    );
  }
}

/** `K=V` pairs from repeated flags, checked. */
function pairs(flag: string, values: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new AgentdError('usage', `${flag}: "${value}" is not NAME=value`);
    out[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return out;
}

/**
 * Secret values come from the environment variable of the same name, so they never appear
 * in a command line, the shell's history or agentd's output.
 */
function secretValues(names: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = process.env[name];
    if (!value) {
      throw new AgentdError(
        'usage',
        `--secret ${name}: the environment variable ${name} is not set; export ${name}=... first (agentd reads the value from there so it never shows in a command line)`,
      );
    }
    out[name] = value;
  }
  return out;
}

function containmentOf(flags: ServerFlags, base: Containment = defaultContainment): Containment {
  return {
    sandbox: flags.sandbox ?? base.sandbox,
    network: flags.network ?? base.network,
    callTimeoutMs: flags.callTimeout ?? base.callTimeoutMs,
    maxOutputBytes: flags.maxOutput ?? base.maxOutputBytes,
  };
}

export async function mcpAddCommand(
  name: string | undefined,
  command: string[],
  flags: ServerFlags,
): Promise<number> {
  // with --npm, what follows -- is the server's arguments, not a command of its own
  const sources = [
    flags.npm,
    flags.url,
    flags.from,
    command.length && !flags.npm ? 'command' : undefined,
  ].filter(Boolean);
  if (sources.length !== 1) {
    throw new AgentdError(
      'usage',
      'say how to run the server, one way: --npm <package>, --url <url>, --from <server.json>, or the command after -- (e.g. agentd mcp add files -- npx -y @modelcontextprotocol/server-filesystem /tmp)',
    );
  }
  const secrets = secretValues(flags.secret);
  const env = pairs('--env', flags.env);
  const headers = pairs('--header', flags.header);
  const roots = (flags.root ?? []).map((root) => resolve(root));
  const containment = containmentOf(flags);
  let entry: ServerEntry;
  /** The npm package the server is, checked: installed now, or run with npx (`--no-install`). */
  let npm: { package: NpmPackageSpec; args: string[] } | undefined;
  if (flags.from) {
    const file = flags.from;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new AgentdError('usage', `--from: ${file} not found`);
    }
    const imported = entryFromServerJson(file, text, {
      ...(name ? { name } : {}),
      args: pairs('--arg', flags.arg),
      containment,
    });
    npm = imported.npm;
    const missingSecret = imported.secrets.find((s) => s.required && !(s.name in secrets));
    if (missingSecret) {
      throw new AgentdError(
        'usage',
        `${file}: ${imported.entry.name} needs the secret ${missingSecret.name}${missingSecret.description ? ` (${missingSecret.description})` : ''}: export ${missingSecret.name}=... and add --secret ${missingSecret.name}`,
      );
    }
    const missingEnv = imported.missingEnv.find((v) => !(v.name in env));
    if (missingEnv) {
      throw new AgentdError(
        'usage',
        `${file}: ${imported.entry.name} needs ${missingEnv.name}${missingEnv.description ? ` (${missingEnv.description})` : ''}: add --env ${missingEnv.name}=<value>`,
      );
    }
    const secretHeaders =
      imported.entry.transport.type === 'http'
        ? imported.secrets.map((s) => s.name).filter((n) => n in secrets)
        : [];
    entry = {
      ...imported.entry,
      env: { ...imported.entry.env, ...env },
      headers: { ...imported.entry.headers, ...headers },
      secrets: Object.keys(secrets).filter((n) => !secretHeaders.includes(n)),
      secretHeaders,
      roots,
      enabled: !flags.disabled,
    };
  } else {
    if (!name) throw new AgentdError('usage', 'give the server a name: agentd mcp add <name> ...');
    if (flags.npm) npm = { package: parseNpmSpec(flags.npm, '--npm'), args: command };
    const transport: ServerEntry['transport'] = flags.url
      ? { type: 'http', url: checkServerUrl(flags.url, '--url') }
      : npm
        ? npxTransport(npm.package, npm.args)
        : { type: 'stdio', command: command[0]!, args: command.slice(1) };
    entry = {
      name,
      source: flags.url
        ? { kind: 'url' }
        : npm
          ? {
              kind: 'npm',
              package: npm.package.name,
              ...(npm.package.version ? { version: npm.package.version } : {}),
            }
          : { kind: 'command' },
      transport,
      env,
      headers,
      secrets: transport.type === 'stdio' ? Object.keys(secrets) : [],
      secretHeaders: transport.type === 'http' ? Object.keys(secrets) : [],
      roots,
      containment,
      enabled: !flags.disabled,
    };
  }
  if (flags.gatewayPrefix === false) entry.gateway = { prefix: false };
  if (isBuiltinServer(entry.name)) {
    throw new AgentdError(
      'usage',
      `"${entry.name}" is a built-in connector's name; pick another name for this server`,
    );
  }
  if (!serverNamePattern.test(entry.name)) {
    throw new AgentdError(
      'usage',
      `"${entry.name}" cannot be a server name (lowercase letters, digits, "_" and "-", at most 32, starting with a letter or digit)`,
    );
  }
  try {
    await withRegistry(async (registry, config) => {
      await registry.assertFree(entry.name); // before an npm install that would be wasted
      if (npm && flags.install !== false) {
        // Installed now, with the network, into the server's own folder: it then starts offline.
        const dir = join(config.home, 'servers', entry.name, 'package');
        const command = await installNpmServer(
          { server: entry.name, dir, spec: npm.package, sandbox: containment.sandbox },
          (plan) =>
            process.stderr.write(
              paint(
                'dim',
                `installing ${formatNpmSpec(npm!.package)} into ${dir}, install scripts off${plan.sandboxed ? ', in a bubblewrap sandbox (network on, only that folder writable)' : ', without a sandbox'}…\n`,
              ),
            ),
        );
        entry.transport = { type: 'stdio', command, args: npm.args };
      }
      await registry.add(entry, secrets);
      process.stdout.write(
        `registered ${entry.name} (${describeTransport(entry)})${entry.enabled ? '' : ', disabled'}\n`,
      );
      if (entry.enabled && flags.list !== false) await listToolsAndSay(registry, config, entry);
    });
  } catch (error) {
    // npm could not install it: a failed step (exit 1), not a refused entry (exit 2)
    if (!(error instanceof NpmInstallFailed)) throw error;
    process.stderr.write(`${paint('red', 'agentd:')} ${error.message}\n`);
    return 1;
  }
  return 0;
}

export async function mcpListCommand(options: { json?: boolean }): Promise<number> {
  const { entries, counts } = await withRegistry(async (registry) => {
    const entries = await registry.list();
    const tools = await registry.tools();
    const counts = new Map<string, number>();
    for (const tool of tools) counts.set(tool.server, (counts.get(tool.server) ?? 0) + 1);
    return { entries, counts };
  });
  if (options.json) {
    for (const entry of entries)
      process.stdout.write(`${JSON.stringify({ ...entry, tools: counts.get(entry.name) ?? 0 })}\n`);
    return 0;
  }
  const rows = [
    ...builtinServers.map((name) => [name, 'built-in', '-', builtinContainment[name], 'in agentd']),
    ...entries.map((e) => [
      e.name,
      e.enabled ? 'enabled' : 'disabled',
      String(counts.get(e.name) ?? '-'),
      describeContainment(e),
      clip(describeTransport(e), 60),
    ]),
  ];
  process.stdout.write(`${table(['NAME', 'STATE', 'TOOLS', 'CONTAINMENT', 'RUNS AS'], rows)}\n`);
  return 0;
}

const builtinContainment: Record<(typeof builtinServers)[number], string> = {
  fs: 'confined to its roots (the run folder)',
  shell: 'sandbox if bwrap (no network unless granted), its folder, env allowlist, limits',
  http: 'no private addresses, size and time limits',
  settings: "agentd's own settings; read only unless the spec allows changes",
  memory: "the agent's long-term memory, within its namespaces",
};

function describeContainment(entry: ServerEntry): string {
  const c = entry.containment;
  if (entry.transport.type === 'http') return `remote, ${formatDuration(c.callTimeoutMs)} a call`;
  const sandbox =
    c.sandbox === 'none' ? 'no sandbox' : c.sandbox === 'auto' ? 'sandbox if bwrap' : 'bubblewrap';
  return `${sandbox}, ${c.network ? 'network' : 'no network'}, ${formatDuration(c.callTimeoutMs)} a call`;
}

export async function mcpShowCommand(name: string, options: { json?: boolean }): Promise<number> {
  const { entry, tools } = await withRegistry(async (registry) => ({
    entry: await registry.get(name),
    tools: await registry.tools(name),
  }));
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...entry, tools }, null, 2)}\n`);
    return 0;
  }
  const o = process.stdout;
  o.write(
    `${paint('bold', entry.name, o)}${entry.title ? ` · ${entry.title}` : ''} · ${entry.enabled ? 'enabled' : 'disabled'}\n`,
  );
  if (entry.description) o.write(`${entry.description}\n`);
  o.write(`runs as:      ${describeTransport(entry)}\n`);
  const source = entry.source;
  o.write(
    `source:       ${source.kind === 'server.json' ? `${source.name} (${source.file})` : source.kind === 'npm' ? `npm ${source.package}${source.version ? `@${source.version}` : ''}` : source.kind}${entry.version ? `, version ${entry.version}` : ''}\n`,
  );
  const config = serverConfigFor(entry, {}, loadConfig().home);
  if (config.transport === 'stdio') {
    for (const line of describeStdioContainment(config)) o.write(`containment:  ${line}\n`);
  } else {
    o.write(`containment:  ${describeContainment(entry)}\n`);
  }
  if (entry.roots.length) o.write(`roots:        ${entry.roots.join(', ')}\n`);
  if (entry.gateway?.prefix === false) {
    o.write('gateway:      tools and prompts offered without the name prefix\n');
  }
  const env = Object.entries(entry.env).map(([k, v]) => `${k}=${v}`);
  if (env.length) o.write(`environment:  ${env.join(' ')}\n`);
  const headers = Object.entries(entry.headers).map(([k, v]) => `${k}: ${v}`);
  if (headers.length) o.write(`headers:      ${headers.join('; ')}\n`);
  const secrets = [...entry.secrets, ...entry.secretHeaders];
  if (secrets.length)
    o.write(`secrets:      ${secrets.map((s) => `${s}=••••••`).join(' ')} (stored encrypted)\n`);
  o.write('\n');
  if (tools.length === 0) {
    o.write('tools: not listed yet\n');
    return 0;
  }
  o.write(
    `tools (${tools.length}, listed ${tools[0]!.listedAt.replace('T', ' ').slice(0, 19)} UTC):\n`,
  );
  for (const tool of tools) {
    o.write(`  ${paint('cyan', tool.name, o)}  ${clip(tool.description, 100)}\n`);
    o.write(`${paint('dim', `    ${JSON.stringify(tool.inputSchema)}`, o)}\n`);
  }
  return 0;
}

export async function mcpRefreshCommand(name: string): Promise<number> {
  await withRegistry(async (registry, config) => {
    const entry = await registry.get(name);
    const names = await listTools(registry, config, entry).catch((error: unknown) => {
      throw new AgentdError(
        'tool_load_failed',
        `cannot list ${name}'s tools: ${errorMessage(error)}`,
      );
    });
    process.stdout.write(
      `${name}: ${names.length} tool${names.length === 1 ? '' : 's'}: ${clip(names.join(', '), 200) || 'none'}\n`,
    );
  });
  return 0;
}

/** Starts a stdio server in the foreground, contained as agents get it, for debugging. */
export async function mcpRunCommand(name: string): Promise<number> {
  const plan = await withRegistry(async (registry, config) => {
    const entry = await registry.get(name);
    const serverConfig = serverConfigFor(entry, await registry.secretsOf(name), config.home);
    if (serverConfig.transport !== 'stdio') {
      throw new AgentdError(
        'usage',
        `${name} is a remote server (${describeTransport(entry)}): there is nothing to run here`,
      );
    }
    mkdirSync(serverConfig.cwd, { recursive: true });
    return planStdioSpawn(name, serverConfig);
  });
  process.stderr.write(
    paint(
      'dim',
      `running ${name}${plan.sandboxed ? ' in a bubblewrap sandbox' : ''}; it speaks MCP on stdin/stdout (Ctrl-C stops it)\n`,
    ),
  );
  const child = spawn(plan.command, plan.args, { cwd: plan.cwd, env: plan.env, stdio: 'inherit' });
  return await new Promise<number>((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`agentd: cannot start ${name}: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
  });
}

export async function mcpRemoveCommand(name: string): Promise<number> {
  await withRegistry((registry) => registry.remove(name));
  process.stdout.write(`removed ${name}\n`);
  return 0;
}

export async function mcpSetEnabledCommand(name: string, enabled: boolean): Promise<number> {
  await withRegistry((registry) => registry.update(name, (entry) => ({ ...entry, enabled })));
  process.stdout.write(`${name} ${enabled ? 'enabled' : 'disabled'}\n`);
  return 0;
}

export async function mcpConfigureCommand(
  name: string,
  flags: ServerFlags & { unsetEnv?: string[]; unsetSecret?: string[] },
): Promise<number> {
  const secrets: Record<string, string | undefined> = secretValues(flags.secret);
  for (const unset of flags.unsetSecret ?? []) secrets[unset] = undefined;
  const env = pairs('--env', flags.env);
  const headers = pairs('--header', flags.header);
  const entry = await withRegistry((registry) =>
    registry.update(
      name,
      (current) => {
        const nextEnv = { ...current.env, ...env };
        for (const key of flags.unsetEnv ?? []) delete nextEnv[key];
        const next: ServerEntry = {
          ...current,
          env: nextEnv,
          headers: { ...current.headers, ...headers },
          roots: flags.root?.length ? flags.root.map((root) => resolve(root)) : current.roots,
          containment: containmentOf(flags, current.containment),
          ...(flags.disabled !== undefined ? { enabled: !flags.disabled } : {}),
          ...(flags.gatewayPrefix !== undefined
            ? { gateway: { prefix: flags.gatewayPrefix } }
            : {}),
        };
        if (flags.url) next.transport = { type: 'http', url: checkServerUrl(flags.url, '--url') };
        // new secrets of an http server go in headers, of a stdio server in its environment
        if (current.transport.type === 'http') {
          next.secretHeaders = [...new Set([...current.secretHeaders, ...Object.keys(secrets)])];
        }
        return next;
      },
      secrets,
    ),
  );
  process.stdout.write(
    `updated ${entry.name} (${describeTransport(entry)}, ${describeContainment(entry)})\n`,
  );
  return 0;
}

export async function mcpSearchCommand(
  query: string,
  options: { limit?: number; json?: boolean },
): Promise<number> {
  const found = await withRegistry((registry) => registry.search(query, options.limit ?? 10));
  if (options.json) {
    for (const tool of found) process.stdout.write(`${JSON.stringify(tool)}\n`);
    return 0;
  }
  if (found.length === 0) {
    process.stdout.write(
      `no tools match "${query}" (only tools of enabled servers that have been listed are searched)\n`,
    );
    return 0;
  }
  const rows = found.map((t) => [
    `${t.server}.${t.name}`,
    t.score.toFixed(2),
    clip(t.description, 80),
  ]);
  process.stdout.write(`${table(['TOOL', 'SCORE', 'DESCRIPTION'], rows)}\n`);
  return 0;
}
