import semver from 'semver';
import validateNpmPackageName from 'validate-npm-package-name';
import { AgentdError } from '../../core/errors.ts';
import { shown } from './entry-values.ts';

/**
 * An npm package as a registry entry may name it: a package name by npm's rules for new
 * packages (scoped names allowed) and, optionally, a version, a `^`/`~`/x-range or a dist-tag.
 * Nothing else: no path, tarball, URL, git spec, alias, option (a leading `-`), whitespace or
 * shell character, so that the spec is only ever data to npm, never an instruction.
 */
export interface NpmPackageSpec {
  name: string;
  /** A version (`1.2.3`), a range (`^1.2`, `~1.2.3`, `1.x`, `*`) or a dist-tag (`latest`). */
  version?: string;
}

/** What a spec may contain at all: checked first, so that the reason is the plainest one. */
const specCharacters = /^[A-Za-z0-9@/._~^*+-]+$/;
const distTag = /^[a-z][a-z0-9._-]*$/i;
const howToRunOther =
  'to run anything else, install it yourself and register the command: agentd mcp add <name> -- <command>';

function refuse(field: string, value: string, why: string): never {
  throw new AgentdError(
    'usage',
    `${field}: ${shown(value)} is not an npm package name with an optional @version (${why}); ${howToRunOther}`,
  );
}

/** `name` as an npm package name, or a one-line error naming `field`. */
export function checkNpmName(name: string, field: string, shownAs = name): string {
  const other = notRegistrySpec(name);
  if (other) refuse(field, shownAs, other);
  if (!name.startsWith('@') && name.includes('/'))
    refuse(field, shownAs, 'a path or a GitHub owner/repo, not a registry name');
  const verdict = validateNpmPackageName(name);
  if (!verdict.validForNewPackages) {
    refuse(field, shownAs, [...(verdict.errors ?? []), ...(verdict.warnings ?? [])].join('; '));
  }
  return name;
}

/** `version` as a version, `^`/`~`/x-range or dist-tag, or a one-line error naming `field`. */
export function checkNpmVersion(version: string, field: string, shownAs = version): string {
  const other = notRegistrySpec(version);
  if (other) refuse(field, shownAs, other);
  if (semver.valid(version) || semver.validRange(version) || distTag.test(version)) return version;
  refuse(field, shownAs, 'not a version, a ^ or ~ range, an x-range or a dist-tag');
}

/** `name[@version]` (e.g. `@scope/server@^1.2`), checked; a one-line error naming `field`. */
export function parseNpmSpec(spec: string, field: string): NpmPackageSpec {
  const at = spec.lastIndexOf('@');
  if (at <= 0) return { name: checkNpmName(spec, field) };
  const name = spec.slice(0, at);
  const version = spec.slice(at + 1);
  if (version === '') refuse(field, spec, 'nothing after @');
  checkNpmName(name, field, spec);
  checkNpmVersion(version, field, spec);
  return { name, version };
}

/** The spec as npm takes it: `name` or `name@version`. */
export function formatNpmSpec(spec: NpmPackageSpec): string {
  return spec.version ? `${spec.name}@${spec.version}` : spec.name;
}

/** Why `value` is something other than a registry name or version, if it is. */
function notRegistrySpec(value: string): string | undefined {
  if (value.startsWith('-')) return 'it would be an option to npm';
  const shell = /[$`;|&<>()'"{}[\]!#\\]/.exec(value);
  if (shell) return `${shell[0]} is a shell character`;
  if (/\s/.test(value)) return 'it has whitespace';
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) return 'a URL, git or other spec, not a registry name';
  if (/^(\.|\/|~\/)|\.(tgz|tar|tar\.gz)$/i.test(value))
    return 'a path or tarball, not a registry name';
  if (!specCharacters.test(value))
    return 'only letters, digits and @ / . _ ~ ^ * + - can be in an npm name or version';
  return undefined;
}

/**
 * How an entry runs a package it did not install (`--no-install`): npx fetches it at each
 * start, inside the server's containment, with install scripts off; the spec after `--`, so
 * it can only be a package.
 */
export function npxTransport(
  spec: NpmPackageSpec,
  args: readonly string[],
): { type: 'stdio'; command: string; args: string[] } {
  return {
    type: 'stdio',
    command: 'npx',
    args: ['-y', '--ignore-scripts', '--', formatNpmSpec(spec), ...args],
  };
}
