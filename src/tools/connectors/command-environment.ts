/** The PATH a command gets unless PATH itself is allowlisted. */
export const safePath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Variables passed by default: where home is, who runs it, language and time zone. */
export const defaultEnvAllowlist: readonly string[] = [
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TERM',
  'TMPDIR',
];

/**
 * The environment a command runs with: only the allowlisted variables from `source`
 * (an entry ending in `*` allows every name with that prefix, e.g. `LC_*`), plus a safe
 * PATH. Nothing else reaches the command: no keys, tokens or agentd settings.
 */
export function commandEnvironment(
  allowlist: readonly string[],
  source: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = { PATH: safePath };
  for (const [name, value] of Object.entries(source)) {
    if (value !== undefined && allowlist.some((entry) => matches(entry, name))) env[name] = value;
  }
  return env;
}

function matches(entry: string, name: string): boolean {
  return entry.endsWith('*') ? name.startsWith(entry.slice(0, -1)) : entry === name;
}
