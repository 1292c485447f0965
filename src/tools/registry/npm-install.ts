import { execFile } from 'node:child_process';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  realpathSync,
  rmdirSync,
  rmSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, sep } from 'node:path';
import { AgentdError } from '../../core/errors.ts';
import { findExecutable, isExecutable, systemBinDirs } from '../bubblewrap.ts';
import { isMcpError } from '../mcp/mcp-error.ts';
import type { ContainedPath } from '../mcp/server-config.ts';
import {
  type ContainmentHost,
  detectContainmentHost,
  planStdioSpawn,
  type SpawnPlan,
} from '../mcp/stdio-containment.ts';
import { shown } from './entry-values.ts';
import { formatNpmSpec, type NpmPackageSpec } from './npm-package-spec.ts';
import type { Containment } from './server-entry.ts';

/** npm could not install the package (registry unreachable, no such package, npm missing). */
export class NpmInstallFailed extends AgentdError {
  constructor(message: string) {
    super('tool_load_failed', message);
  }
}

export interface NpmInstallOptions {
  /** The server's name, for messages. */
  server: string;
  /** Where the package goes: its own folder, the only one the install may write. */
  dir: string;
  spec: NpmPackageSpec;
  /** The entry's sandbox setting: the install is contained as the server will be. */
  sandbox: Containment['sandbox'];
  /** The user's environment, which npm gets without agentd's own variables. */
  env?: NodeJS.ProcessEnv;
  host?: ContainmentHost;
}

/**
 * npm's flags: install into `dir` only, with a cache inside it; no lifecycle scripts (the
 * package's and its dependencies'); dependencies from the registry only (no git, URL, file or
 * folder dependencies); nothing global, saved, audited or announced. They come before `--`
 * and the spec, which therefore can only be a package.
 */
function npmArgs(dir: string, spec: NpmPackageSpec): string[] {
  return [
    'install',
    '--prefix',
    dir,
    '--cache',
    join(dir, '.npm-cache'),
    '--ignore-scripts',
    '--allow-git=none',
    '--allow-remote=none',
    '--allow-file=none',
    '--allow-directory=none',
    '--no-global',
    '--no-save',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    '--loglevel=error',
    '--',
    formatNpmSpec(spec),
  ];
}

/**
 * How to run npm for an install: the npm on the user's PATH (its CLI script run by the Node
 * that runs agentd when it is a Node script, so that no other Node needs to be visible), with
 * the user's environment less agentd's variables, contained like the server: where bubblewrap
 * applies, a sandbox with the network, the package's folder the only writable one, npm's own
 * install and the user's npm config files read-only, a fresh /tmp, nothing else of the home.
 */
export function planNpmInstall(options: NpmInstallOptions): SpawnPlan {
  const userEnv = options.env ?? process.env;
  const host = options.host ?? detectContainmentHost(userEnv.PATH ?? '');
  const npm = findNpm(userEnv.PATH ?? '');
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(userEnv)) {
    if (value !== undefined && !/^AGENTD_/i.test(key)) env[key] = value;
  }
  env.TMPDIR = join(options.dir, '.tmp');
  const readable: ContainedPath[] = [npm.root, ...configFiles(userEnv, npm.prefix)].map((path) => ({
    path,
    writable: false,
  }));
  try {
    return planStdioSpawn(
      options.server,
      {
        transport: 'stdio',
        command: npm.command,
        args: [...npm.args, ...npmArgs(options.dir, options.spec)],
        env,
        cwd: options.dir,
        containment: {
          sandbox: options.sandbox,
          network: true,
          paths: readable,
          callTimeoutMs: installTimeoutMs,
          maxOutputBytes: 10_000_000,
        },
      },
      host,
    );
  } catch (error) {
    if (!isMcpError(error)) throw error;
    throw new AgentdError(
      'usage',
      `cannot install ${formatNpmSpec(options.spec)} for ${options.server}: ${error.message.replace(/^MCP server "[^"]*": /, '')}`,
    );
  }
}

const installTimeoutMs = 300_000;

/**
 * Installs an npm package into a server's own folder, once, at registration (with the
 * network), so that the server later starts from its folder without fetching anything (in a
 * sandbox without network, too). No code of the package runs: install scripts are off, and a
 * package that has one (or a dependency that has one) is refused, its folder removed.
 * Returns the absolute path of the package's executable.
 */
export async function installNpmServer(
  options: NpmInstallOptions,
  onStart?: (plan: SpawnPlan) => void,
): Promise<string> {
  const { dir, spec } = options;
  const shownSpec = formatNpmSpec(spec);
  const plan = planNpmInstall(options);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, '.tmp'), { recursive: true });
  try {
    onStart?.(plan);
    await runNpm(plan, shownSpec);
    const [first, ...more] = installScripts(join(dir, 'node_modules'));
    if (first) {
      const who = first.package.startsWith(`${spec.name}@`)
        ? first.package
        : `${spec.name} depends on ${first.package}, which`;
      const others = more.length
        ? ` (and ${more.length} more package${more.length > 1 ? 's' : ''})`
        : '';
      throw new AgentdError(
        'registry_invalid',
        `${who} has an install script${others} (${first.script}: ${shown(first.command)}), which agentd never runs: ${shownSpec} is not registered and nothing of it is kept; if you trust it, install it yourself and register its command: agentd mcp add ${options.server} -- <command>`,
      );
    }
    return executableOf(dir, spec);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    rmEmpty(dirname(dir));
    throw error;
  } finally {
    rmSync(join(dir, '.npm-cache'), { recursive: true, force: true });
    rmSync(join(dir, '.tmp'), { recursive: true, force: true });
  }
}

function rmEmpty(folder: string): void {
  try {
    rmdirSync(folder);
  } catch {
    // not empty, or gone: either way nothing of this install is left
  }
}

function runNpm(plan: SpawnPlan, spec: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      plan.command,
      plan.args,
      { cwd: plan.cwd, env: plan.env, timeout: installTimeoutMs, maxBuffer: 10_000_000 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        reject(new NpmInstallFailed(`npm could not install ${spec}: ${npmReason(stderr, error)}`));
      },
    );
  });
}

/**
 * The line of npm's error output that says what happened: not its `code`/`errno` lines, not
 * the pointer to a log (which is removed with the cache).
 */
function npmReason(stderr: string, error: Error & { killed?: boolean }): string {
  if (error.killed) return `it did not finish in ${installTimeoutMs / 1000} s`;
  const lines = stderr
    .split('\n')
    .map((line) => line.replace(/^npm (error|ERR!)\s*/, '').trim())
    .filter(
      (line) =>
        line &&
        !/^(code|syscall|errno|path|signal)\s/.test(line) &&
        !/^A complete log of this run/.test(line) &&
        !/^\d{3}$/.test(line),
    );
  return lines[0] ?? (error.message.split('\n')[0] || 'it failed');
}

interface NpmCommand {
  command: string;
  args: string[];
  /** npm's own install (the node_modules it is in), visible read-only in a sandbox. */
  root: string;
  /** npm's prefix, where its global config lives (`<prefix>/etc/npmrc`). */
  prefix: string;
}

function findNpm(pathVar: string): NpmCommand {
  const dirs = [...pathVar.split(delimiter).filter(Boolean), ...systemBinDirs];
  const found = findExecutable('npm', dirs);
  if (!found) {
    throw new NpmInstallFailed(
      `npm is not on the PATH (${dirs.join(delimiter)}), so agentd cannot install npm packages: install Node.js's npm, or register the server's command yourself: agentd mcp add <name> -- <command>`,
    );
  }
  const cli = realpathSync(found);
  const marker = `${sep}node_modules${sep}`;
  const at = cli.indexOf(marker);
  const root = at >= 0 ? cli.slice(0, at + marker.length - 1) : dirname(cli);
  const prefix = root.endsWith(`${sep}lib${sep}node_modules`) ? dirname(dirname(root)) : root;
  return isNodeScript(cli)
    ? { command: process.execPath, args: [cli], root, prefix }
    : { command: cli, args: [], root, prefix };
}

function isNodeScript(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(128);
    const read = readSync(fd, head, 0, head.length, 0);
    const first = head.subarray(0, read).toString('utf8').split('\n')[0] ?? '';
    return path.endsWith('.js') || (first.startsWith('#!') && /\bnode\b/.test(first));
  } finally {
    closeSync(fd);
  }
}

/** The npm config and certificate files the user has, which npm reads (visible read-only). */
function configFiles(env: NodeJS.ProcessEnv, npmPrefix: string): string[] {
  const files = [
    env.npm_config_userconfig ?? env.NPM_CONFIG_USERCONFIG ?? join(env.HOME ?? homedir(), '.npmrc'),
    env.npm_config_globalconfig ?? env.NPM_CONFIG_GLOBALCONFIG ?? join(npmPrefix, 'etc', 'npmrc'),
    env.npm_config_cafile ?? env.NPM_CONFIG_CAFILE,
    env.NODE_EXTRA_CA_CERTS,
    env.SSL_CERT_FILE,
  ];
  return [...new Set(files)].filter(
    (file): file is string => !!file && file.startsWith(sep) && existsSync(file),
  );
}

interface InstallScript {
  package: string;
  script: string;
  command: string;
}

/**
 * Every installed package (the server's and its dependencies', read from their own
 * package.json, not from what the registry said) that declares a script npm would run at
 * install: `preinstall`, `install`, `postinstall`, or a `binding.gyp` (an implicit
 * `node-gyp rebuild`).
 */
export function installScripts(nodeModules: string): InstallScript[] {
  const found: InstallScript[] = [];
  const visit = (folder: string) => {
    for (const name of safeReaddir(folder)) {
      if (name.startsWith('.')) continue;
      const path = join(folder, name);
      if (!lstatSync(path).isDirectory()) continue;
      if (name.startsWith('@')) {
        visit(path);
        continue;
      }
      const manifest = readManifest(path);
      const label = `${manifest?.name ?? name}${manifest?.version ? `@${manifest.version}` : ''}`;
      const scripts = manifest?.scripts ?? {};
      const script = (['preinstall', 'install', 'postinstall'] as const).find(
        (key) => typeof scripts[key] === 'string',
      );
      if (script) found.push({ package: label, script, command: String(scripts[script]) });
      else if (existsSync(join(path, 'binding.gyp')))
        found.push({ package: label, script: 'install', command: 'node-gyp rebuild' });
      visit(join(path, 'node_modules'));
    }
  };
  visit(nodeModules);
  return found;
}

function safeReaddir(folder: string): string[] {
  try {
    return readdirSync(folder).sort();
  } catch {
    return [];
  }
}

interface Manifest {
  name?: string;
  version?: string;
  bin?: string | Record<string, string>;
  scripts?: Record<string, unknown>;
}

function readManifest(folder: string): Manifest | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Manifest) : undefined;
  } catch {
    return undefined;
  }
}

/** The installed package's executable, `node_modules/.bin/<bin>`, checked to exist. */
function executableOf(dir: string, spec: NpmPackageSpec): string {
  const folder = join(dir, 'node_modules', spec.name);
  const manifest = readManifest(folder);
  if (!manifest) {
    throw new AgentdError(
      'registry_invalid',
      `npm installed ${formatNpmSpec(spec)} but left no readable ${join(folder, 'package.json')}: it is not a package agentd can start`,
    );
  }
  const unscoped = spec.name.split('/').pop()!;
  const bins =
    typeof manifest.bin === 'string' ? { [unscoped]: manifest.bin } : (manifest.bin ?? {});
  const names = Object.keys(bins).filter(
    (name) => /^[A-Za-z0-9@._-]+$/.test(name) && !/^\.+$/.test(name),
  );
  const bin = names.includes(unscoped) ? unscoped : names[0];
  const path = bin === undefined ? undefined : join(dir, 'node_modules', '.bin', bin);
  if (!path || !isExecutable(path)) {
    throw new AgentdError(
      'registry_invalid',
      `${formatNpmSpec(spec)} has no executable (no usable "bin" in its package.json): it is not an MCP server agentd can start`,
    );
  }
  return path;
}
