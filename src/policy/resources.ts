import { statSync } from 'node:fs';
import { basename, extname, relative, resolve, sep } from 'node:path';
import { errorMessage } from '../core/errors.ts';
import type { ConnectorOptions } from '../definition/agent-spec.ts';
import { PathGuard } from '../tools/connectors/path-guard.ts';
import type { ToolOrigin } from '../tools/tool-origin.ts';
import type { EntityJson } from './cedar.ts';
import type { ResourceKind } from './manifests.ts';

/** A Cedar entity id. */
export interface Uid {
  type: string;
  id: string;
}

/** A resource a call touches: its id and the entities a decision needs about it. */
export interface Resource {
  uid: Uid;
  entities: EntityJson[];
}

/** Why a call's resource could not be found: the call is denied. */
export class ResourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResourceError';
  }
}

export function uidText(uid: Uid): string {
  return `${uid.type}::${JSON.stringify(uid.id)}`;
}

/** What finding resources needs to know about the run. */
export interface ResourceEnvironment {
  /** The built-in connectors' options, as the spec gives them. */
  connectors: ConnectorOptions;
  /** The folder the agent runs in. */
  cwd: string;
  /** The spec's folder: in-process modules are named relative to it. */
  specDir?: string;
}

/**
 * Finds what a call touches, the way the connector will see it: a file path is resolved as
 * the fs connector resolves it (inside its roots, symlinks followed, so a link cannot hide
 * `.env`), relative to its first root; a URL's host is the host the http connector will
 * ask for.
 */
export class ResourceResolver {
  readonly #env: ResourceEnvironment;
  #guard: PathGuard | undefined;

  constructor(env: ResourceEnvironment) {
    this.#env = env;
  }

  async resolve(kind: ResourceKind, origin: ToolOrigin, input: unknown): Promise<Resource[]> {
    const given = (typeof input === 'object' && input !== null ? input : {}) as Record<
      string,
      unknown
    >;
    switch (kind) {
      case 'file': {
        const tool = origin.kind === 'connector' ? origin.tool : '';
        const fields: [string, 'follow' | 'entry'][] =
          'from' in given || 'to' in given
            ? [
                ['from', 'entry'],
                ['to', 'follow'],
              ]
            : [['path', tool === 'delete' ? 'entry' : 'follow']];
        const out: Resource[] = [];
        for (const [field, how] of fields) {
          const value = given[field] ?? (field === 'path' ? '.' : undefined);
          if (typeof value !== 'string') {
            throw new ResourceError(`input.${field} should be a path`);
          }
          out.push(await this.#file(value, how));
        }
        return out;
      }
      case 'host':
        return [hostResource(given.url)];
      case 'server':
        return [serverResource(origin)];
      case 'module': {
        const module = origin.kind === 'module' ? origin.module : undefined;
        const name =
          module === undefined
            ? 'in-process'
            : toPosix(this.#env.specDir ? relative(this.#env.specDir, module) : basename(module));
        return [
          { uid: { type: 'Module', id: name }, entities: [entity('Module', name, { name })] },
        ];
      }
      case 'registry':
        return [
          {
            uid: { type: 'Registry', id: 'local' },
            entities: [entity('Registry', 'local', { name: 'local' })],
          },
        ];
    }
  }

  async #file(path: string, how: 'follow' | 'entry'): Promise<Resource> {
    this.#guard ??= new PathGuard(
      (this.#env.connectors.fs?.roots ?? ['.']).map((root) => resolve(this.#env.cwd, root)),
    );
    const guard = this.#guard;
    let real: string;
    let display: string;
    try {
      const guarded = how === 'entry' ? await guard.resolveEntry(path) : await guard.resolve(path);
      real = guarded.real;
      display = toPosix(guarded.display);
    } catch (error) {
      throw new ResourceError(errorMessage(error));
    }
    // One stat, synchronous: a trip through the thread pool costs more than the call.
    const isDir = statSync(real, { throwIfNoEntry: false })?.isDirectory() ?? false;
    return fileResource(display, isDir);
  }
}

/** A path (relative to the fs connector's first root, or absolute) as a File or Dir. */
export function fileResource(path: string, isDir: boolean): Resource {
  const normalized = normalizePath(path);
  const parents: Uid[] = ancestors(normalized).map((dir) => ({ type: 'Dir', id: dir }));
  parents.push({ type: 'Server', id: 'fs' });
  const name = normalized === '.' ? '.' : (normalized.split('/').at(-1) ?? normalized);
  const type = isDir ? 'Dir' : 'File';
  const attrs: Record<string, string> = isDir
    ? { path: normalized, name }
    : { path: normalized, name, ext: extname(name).replace(/^\./, '') };
  return { uid: { type, id: normalized }, entities: [entity(type, normalized, attrs, parents)] };
}

/** `./src//a/` as `src/a`; the root itself is `.`. */
export function normalizePath(path: string): string {
  const absolute = path.startsWith('/');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  if (absolute) return `/${parts.join('/')}`;
  return parts.length ? parts.join('/') : '.';
}

/** Every folder above a path, nearest first: `src/a/b.ts` → `src/a`, `src`, `.`. */
function ancestors(path: string): string[] {
  if (path === '.' || path === '/') return [];
  const absolute = path.startsWith('/');
  const parts = path.split('/').filter(Boolean);
  const out: string[] = [];
  for (let i = parts.length - 1; i > 0; i--) {
    out.push(`${absolute ? '/' : ''}${parts.slice(0, i).join('/')}`);
  }
  out.push(absolute ? '/' : '.');
  return out;
}

/** The host a URL names, as a Host entity in the http connector. */
export function hostResource(url: unknown): Resource {
  let parsed: URL;
  try {
    if (typeof url !== 'string') throw new Error('not a string');
    parsed = new URL(url);
  } catch {
    throw new ResourceError('input.url is not an absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ResourceError(
      `input.url is a ${parsed.protocol} URL; only http and https are fetched`,
    );
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const scheme = parsed.protocol.slice(0, -1);
  const port = parsed.port ? Number(parsed.port) : scheme === 'https' ? 443 : 80;
  return {
    uid: { type: 'Host', id: host },
    entities: [
      entity('Host', host, { host, scheme, port, path: parsed.pathname }, [
        { type: 'Server', id: 'http' },
      ]),
    ],
  };
}

/** The server a tool belongs to. */
export function serverResource(origin: ToolOrigin): Resource {
  const [name, kind] =
    origin.kind === 'connector'
      ? [origin.server, 'connector']
      : origin.kind === 'mcp-stdio'
        ? [origin.server, 'stdio']
        : origin.kind === 'mcp-http'
          ? [origin.server, 'http']
          : origin.kind === 'team'
            ? ['team', 'team']
            : origin.kind === 'environment'
              ? [`env:${origin.environment}`, 'environment']
              : ['agentd', 'agentd'];
  return { uid: { type: 'Server', id: name }, entities: [entity('Server', name, { name, kind })] };
}

function entity(
  type: string,
  id: string,
  attrs: Record<string, string | number>,
  parents: Uid[] = [],
): EntityJson {
  return { uid: { type, id }, attrs, parents };
}

function toPosix(path: string): string {
  return sep === '/' ? path : path.split(sep).join('/');
}
