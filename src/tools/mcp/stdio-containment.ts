import { realpathSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, resolve, sep } from 'node:path';
import { DEFAULT_INHERITED_ENV_VARS } from '@modelcontextprotocol/client/stdio';
import {
  bubblewrapArgs,
  type ContainmentHost,
  describeSandbox,
  detectContainmentHost,
  findExecutable,
  isExecutable,
  type SandboxLayout,
  systemBinDirs,
} from '../bubblewrap.ts';
import { McpError } from './mcp-error.ts';
import type { StdioServerConfig } from './server-config.ts';

export { type ContainmentHost, detectContainmentHost };

/** How to spawn a contained stdio server (the stdio transport's parameters). */
export interface SpawnPlan {
  command: string;
  args: string[];
  /** Handed to the transport; variables the SDK adds on top are removed by the wrapper. */
  env: Record<string, string>;
  cwd: string;
  /** The server's own command, resolved. */
  resolvedCommand: string;
  sandboxed: boolean;
}

/** The PATH a server gets when it declares none: agentd's Node, then the system's. */
export function defaultServerPath(host: ContainmentHost): string {
  return [host.nodeDir, ...systemBinDirs].join(delimiter);
}

/** Whether this server runs in bubblewrap here, and why not when it does not. */
export function sandboxDecision(
  config: StdioServerConfig,
  host: ContainmentHost,
): { sandboxed: boolean; reason: string } {
  const { sandbox } = config.containment;
  if (sandbox === 'none') return { sandboxed: false, reason: 'the entry asks for none' };
  if (host.bwrapPath) return { sandboxed: true, reason: `bwrap at ${host.bwrapPath}` };
  return {
    sandboxed: false,
    reason:
      sandbox === 'auto'
        ? 'bwrap is not installed (sandbox: auto)'
        : 'bwrap is not installed, so the server will not start (sandbox: bubblewrap)',
  };
}

/**
 * The spawn parameters for a contained stdio server: its declared environment and a PATH,
 * nothing else of agentd's (so provider keys never reach it); its own working directory; and,
 * when bubblewrap applies, a sandbox with no network unless granted, a fresh /tmp, the
 * system's folders read-only and otherwise only the declared paths. Throws an McpError when
 * the entry cannot run as asked (bubblewrap required but missing, command not found).
 */
export function planStdioSpawn(
  server: string,
  config: StdioServerConfig,
  host: ContainmentHost = detectContainmentHost(),
): SpawnPlan {
  const env: Record<string, string> = { ...config.env };
  env.PATH ??= defaultServerPath(host);
  const resolvedCommand = resolveCommand(server, config.command, env.PATH);
  // The SDK's stdio transport adds a few of agentd's variables (HOME, USER, ...) to whatever
  // it is given; agentd's own (stdio-transport.ts) adds none, and the wrapper still removes the
  // ones the entry did not declare, whichever transport starts the server.
  const unset = DEFAULT_INHERITED_ENV_VARS.filter((name) => !(name in env));
  const { sandboxed } = sandboxDecision(config, host);

  if (config.containment.sandbox === 'bubblewrap' && !sandboxed) {
    throw new McpError(
      server,
      'config',
      `MCP server "${server}": containment asks for bubblewrap but bwrap is not installed: install it (apt-get install bubblewrap) or set sandbox to auto or none`,
    );
  }
  for (const { path } of config.containment.paths) {
    if (!isAbsolute(path)) {
      throw new McpError(
        server,
        'config',
        `MCP server "${server}": containment path "${path}" must be absolute`,
      );
    }
  }

  if (sandboxed && host.bwrapPath) {
    return {
      command: host.bwrapPath,
      args: [
        ...bubblewrapArgs(layoutOf(config, host, resolvedCommand, unset), host),
        '--',
        resolvedCommand,
        ...config.args,
      ],
      env,
      cwd: config.cwd,
      resolvedCommand,
      sandboxed: true,
    };
  }
  if (!host.envPath) {
    throw new McpError(
      server,
      'config',
      `MCP server "${server}": cannot find env(1) in ${systemBinDirs.join(', ')} to give the server a minimal environment`,
    );
  }
  return {
    command: host.envPath,
    args: [...unset.flatMap((name) => ['-u', name]), '--', resolvedCommand, ...config.args],
    env,
    cwd: config.cwd,
    resolvedCommand,
    sandboxed: false,
  };
}

function layoutOf(
  config: StdioServerConfig,
  host: ContainmentHost,
  command: string,
  unset: readonly string[],
): SandboxLayout {
  return {
    cwd: config.cwd,
    network: config.containment.network,
    paths: config.containment.paths,
    runtime: runtimeDirs(host, command),
    unsetEnv: unset,
  };
}

/**
 * Folders outside the system's that the command needs to run, read-only: the Node that runs
 * agentd (servers are mostly Node scripts started through `env node`), and the command's own
 * install: the outermost node_modules it lives in (a package needs its dependencies), or
 * its folder.
 */
function runtimeDirs(host: ContainmentHost, command: string): string[] {
  const dirs = new Set([installRoot(realpathOr(host.nodeDir))]);
  for (const path of new Set([command, realpathOr(command)])) dirs.add(installRoot(path));
  return [...dirs];
}

function installRoot(path: string): string {
  const marker = `${sep}node_modules${sep}`;
  const at = path.indexOf(marker);
  if (at >= 0) return path.slice(0, at + marker.length - 1);
  const dir = dirname(path);
  // A Node install: .../bin/node -> the install's root, which holds its lib too.
  return dir.endsWith(`${sep}bin`) ? dirname(dir) : dir;
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function resolveCommand(server: string, command: string, pathVar: string): string {
  if (command.includes(sep)) {
    const path = resolve(command);
    if (isExecutable(path)) return path;
    throw new McpError(
      server,
      'config',
      `MCP server "${server}": command ${path} does not exist or is not executable`,
    );
  }
  const found = findExecutable(command, pathVar.split(delimiter).filter(Boolean));
  if (found) return found;
  throw new McpError(
    server,
    'config',
    `MCP server "${server}": command "${command}" is not on the server's PATH (${pathVar}): give its absolute path or set PATH in the entry's env`,
  );
}

/**
 * What containment applies to a stdio server on this machine, as lines for people (`agentd
 * mcp show`). Names the declared variables, never their values.
 */
export function describeContainment(
  config: StdioServerConfig,
  host: ContainmentHost = detectContainmentHost(),
): string[] {
  const { containment } = config;
  const declared = Object.keys(config.env).sort();
  const envLine =
    declared.length === 0
      ? 'environment: PATH only (agentd Node and system folders); nothing else from agentd'
      : `environment: ${declared.join(', ')}${'PATH' in config.env ? '' : ' and a default PATH'}; nothing else from agentd`;
  const lines = [
    envLine,
    `working directory: ${config.cwd}`,
    `limits: ${formatMs(containment.callTimeoutMs)} a call, ${containment.maxOutputBytes.toLocaleString('en-US')} bytes a message from the server`,
  ];
  const decision = sandboxDecision(config, host);
  if (!decision.sandboxed) {
    lines.push(
      `sandbox: none (${decision.reason}): the server can reach the network and every file agentd's user can`,
    );
    return lines;
  }
  let runtime: string[] = [];
  try {
    runtime = runtimeDirs(
      host,
      resolveCommand('', config.command, config.env.PATH ?? defaultServerPath(host)),
    );
  } catch {
    // an unresolvable command is reported when the server starts
  }
  lines.push(
    ...describeSandbox(
      { cwd: config.cwd, network: containment.network, paths: containment.paths, runtime },
      host,
    ),
  );
  return lines;
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
