import { accessSync, constants, existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join, sep } from 'node:path';
import type { ContainedPath } from './mcp/server-config.ts';

/**
 * The bubblewrap sandbox that contains stdio MCP servers and the `shell` connector's
 * commands alike: the system's folders read-only, a working folder writable, declared paths
 * as declared, a fresh /tmp, /proc and /dev, and nothing else of the machine; its own
 * session, pid namespace and (unless granted) network; it dies with agentd.
 */

/** What the machine offers for containment. */
export interface ContainmentHost {
  /** `bwrap`'s path when bubblewrap is installed. */
  bwrapPath: string | undefined;
  /** `env`, used to drop variables the SDK would pass on from agentd's environment. */
  envPath: string | undefined;
  /** The folder of the Node that runs agentd, first on a server's default PATH. */
  nodeDir: string;
  /** Running as root: the sandbox also drops every capability. */
  isRoot: boolean;
}

/** What a sandboxed program sees and may do. */
export interface SandboxLayout {
  /** Where it starts: writable unless `readOnlyCwd`. */
  cwd: string;
  /** The starting folder is visible read-only (a reviewer that must change nothing). */
  readOnlyCwd?: boolean;
  /** Network (the host's) inside the sandbox; without it the sandbox has only its own loopback. */
  network: boolean;
  /** Declared paths, visible read-only or writable as declared. */
  paths: readonly ContainedPath[];
  /** Further folders it needs to run (its install, its runtime), visible read-only. */
  runtime?: readonly string[];
  /** Variables removed inside the sandbox. */
  unsetEnv?: readonly string[];
}

export const systemBinDirs = ['/usr/local/bin', '/usr/bin', '/bin'];

/** Top-level system folders the sandbox mirrors read-only (or as the symlinks they are). */
const systemRoots = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/** What programs read from /etc: the dynamic linker, users, DNS, certificates, time zone. */
const etcFiles = [
  '/etc/alternatives',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/passwd',
  '/etc/group',
  '/etc/nsswitch.conf',
  '/etc/hosts',
  '/etc/host.conf',
  '/etc/resolv.conf',
  '/etc/gai.conf',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  '/etc/localtime',
  '/etc/mime.types',
];

/**
 * Finds bubblewrap and the rest on this machine. `bwrapPath` overrides the lookup (an
 * absolute path; when nothing executable is there, bubblewrap counts as not installed).
 */
export function detectContainmentHost(
  pathVar = process.env.PATH ?? '',
  options: { bwrapPath?: string } = {},
): ContainmentHost {
  const dirs = [...pathVar.split(delimiter).filter(Boolean), ...systemBinDirs];
  return {
    bwrapPath:
      options.bwrapPath === undefined
        ? findExecutable('bwrap', dirs)
        : isExecutable(options.bwrapPath)
          ? options.bwrapPath
          : undefined,
    envPath: findExecutable('env', systemBinDirs),
    nodeDir: dirname(process.execPath),
    isRoot: process.getuid?.() === 0,
  };
}

interface Mount {
  kind: 'ro' | 'rw';
  path: string;
}

/**
 * bwrap's arguments (before `--` and the command) for `layout`: a new session, every
 * namespace unshared (pid, network unless granted, ipc, uts, user), every capability dropped
 * when running as root, dying with its parent; the system's folders and parts of /etc
 * read-only; fresh /tmp, /proc and /dev; then the runtime folders, the declared paths and the
 * working folder, deeper mounts after shallower ones so a writable folder inside a read-only
 * one stays writable.
 */
export function bubblewrapArgs(layout: SandboxLayout, host: ContainmentHost): string[] {
  const args = ['--die-with-parent', '--new-session', '--unshare-all'];
  if (layout.network) args.push('--share-net');
  if (host.isRoot) args.push('--cap-drop', 'ALL');

  for (const root of systemRoots) {
    const link = symlinkTarget(root);
    if (link !== undefined) args.push('--symlink', link, root);
    else if (existsSync(root)) args.push('--ro-bind', root, root);
  }
  for (const file of etcFiles) args.push('--ro-bind-try', file, file);
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');

  const mounts: Mount[] = [];
  for (const dir of runtimeMounts(layout)) mounts.push({ kind: 'ro', path: dir });
  for (const entry of layout.paths) {
    mounts.push({ kind: entry.writable ? 'rw' : 'ro', path: entry.path });
  }
  mounts.push({ kind: layout.readOnlyCwd ? 'ro' : 'rw', path: layout.cwd });
  mounts.sort((a, b) => depth(a.path) - depth(b.path));
  for (const mount of mounts) {
    args.push(mount.kind === 'rw' ? '--bind' : '--ro-bind', mount.path, mount.path);
  }

  args.push('--chdir', layout.cwd);
  for (const name of layout.unsetEnv ?? []) args.push('--unsetenv', name);
  return args;
}

/**
 * What the sandbox lets a program see and do, as lines for people (`agentd mcp show`):
 * the first names bwrap and the network, the rest are indented.
 */
export function describeSandbox(layout: SandboxLayout, host: ContainmentHost): string[] {
  const { writable, readOnly } = visiblePaths(layout);
  const runtime = runtimeMounts(layout);
  const lines = [
    `sandbox: bubblewrap (${host.bwrapPath}), ${layout.network ? 'network allowed' : 'no network'}`,
    `  writable: ${writable.join(', ') || 'nothing'}`,
  ];
  if (readOnly.length) lines.push(`  read-only: ${readOnly.join(', ')}`);
  lines.push(
    `  also read-only: ${systemSummary}${runtime.length ? `, ${runtime.join(', ')}` : ''}`,
    '  fresh: /tmp, /proc, /dev; every other path is invisible',
  );
  return lines;
}

/** The same as one sentence, for a tool's description. */
export function summarizeSandbox(layout: SandboxLayout): string {
  const { writable, readOnly } = visiblePaths(layout);
  return [
    `Sandboxed (bubblewrap): ${layout.network ? 'network allowed' : 'no network'}`,
    writable.length ? `only ${writable.join(', ')} writable` : 'nothing writable',
    ...(readOnly.length ? [`${readOnly.join(', ')} read-only`] : []),
    `${systemSummary} read-only`,
    'a private /tmp; every other path is invisible.',
  ].join('; ');
}

const systemSummary =
  "/usr and the system's lib and bin folders, parts of /etc (users, DNS, certificates)";

function visiblePaths(layout: SandboxLayout): { writable: string[]; readOnly: string[] } {
  return {
    writable: [
      ...(layout.readOnlyCwd ? [] : [layout.cwd]),
      ...layout.paths.filter((p) => p.writable).map((p) => p.path),
    ],
    readOnly: [
      ...(layout.readOnlyCwd ? [layout.cwd] : []),
      ...layout.paths.filter((p) => !p.writable).map((p) => p.path),
    ],
  };
}

/**
 * The runtime folders that need a mount of their own: not the system's (mounted already),
 * and never the root itself (a command in / or /bin would otherwise expose the whole machine).
 */
function runtimeMounts(layout: SandboxLayout): string[] {
  return (layout.runtime ?? []).filter((dir) => depth(dir) > 0 && !isSystemPath(dir));
}

function isSystemPath(path: string): boolean {
  return systemRoots.some((root) => path === root || path.startsWith(`${root}${sep}`));
}

function depth(path: string): number {
  return path.split(sep).filter(Boolean).length;
}

function symlinkTarget(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

export function findExecutable(name: string, dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    const path = join(dir, name);
    if (isExecutable(path)) return path;
  }
  return undefined;
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return !lstatSync(realpathSync(path)).isDirectory();
  } catch {
    return false;
  }
}
