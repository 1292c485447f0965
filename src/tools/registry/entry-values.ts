import { AgentdError } from '../../core/errors.ts';

/**
 * What values from a registry entry (a `server.json`, or flags that say the same) may be
 * where they reach a process or a connection: data, never an option, a shell word, a loader
 * setting or a line break. Each check throws one line naming the field and the value.
 */

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const controlCharacter = /[\u0000-\u001f\u007f]/;

/** A value as it appears in an error: quoted, escaped onto one line, clipped. */
export function shown(value: string): string {
  const quoted = JSON.stringify(value);
  return quoted.length > 80 ? `${quoted.slice(0, 77)}…"` : quoted;
}

function refuse(field: string, value: string, why: string): never {
  throw new AgentdError('usage', `${field}: ${shown(value)} ${why}`);
}

/**
 * An argument value the server gets: one line of text, and, when it comes from the entry
 * (`value` or `default`), never an option (a leading `-`).
 */
export function checkArgumentValue(value: string, field: string, from: 'entry' | 'user'): string {
  if (controlCharacter.test(value)) refuse(field, value, 'has a control character or line break');
  if (from === 'entry' && value.startsWith('-')) {
    refuse(
      field,
      value,
      'would be an option, not a value: a registry entry gives values only (pass your own with --arg)',
    );
  }
  return value;
}

/** A named argument's name, as the server declares its options: `--name` or `-n`. */
export function checkArgumentName(name: string, field: string): string {
  if (!/^--?[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    refuse(field, name, 'is not an option name (--name or -n: letters, digits, _ . -)');
  }
  return name;
}

/**
 * Variables that decide which program starts or what it loads before its own code: a
 * registry entry may not set them (the user may, with --env).
 */
const loaderVariable =
  /^(PATH|NODE_OPTIONS|NODE_PATH|LD_\w*|DYLD_\w*|npm_config_\w*|BASH_ENV|ENV)$/i;

/** An environment variable's name from an entry: a plain name, not one that changes loading. */
export function checkVariableName(name: string, field: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    refuse(field, name, 'is not an environment variable name (letters, digits and _)');
  }
  if (loaderVariable.test(name)) {
    refuse(
      field,
      name,
      'changes which program starts or what it loads, which a registry entry may not set (set it yourself with --env if you mean it)',
    );
  }
  return name;
}

/** An environment variable's value: anything but NUL, which no process environment holds. */
export function checkVariableValue(value: string, field: string): string {
  if (value.includes('\u0000')) refuse(field, value, 'has a NUL character');
  return value;
}

/** An HTTP header's name (a token) from an entry. */
export function checkHeaderName(name: string, field: string): string {
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
    refuse(field, name, 'is not an HTTP header name');
  return name;
}

/** An HTTP header's value: one line. */
export function checkHeaderValue(value: string, field: string): string {
  if (/[\r\n]/.test(value) || value.includes('\u0000'))
    refuse(field, value, 'has a line break or NUL, which no header can hold');
  return value;
}

/**
 * A remote server's address: http or https, with no credentials in it (they would show in
 * `mcp list`; give them as a secret header instead).
 */
export function checkServerUrl(url: string, field: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    refuse(field, url, 'is not an http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    refuse(field, url, 'is not an http(s) URL');
  }
  if (parsed.username || parsed.password) {
    refuse(
      field,
      url,
      'has credentials in it: give them as a header with --secret instead, so they are stored encrypted',
    );
  }
  if (controlCharacter.test(url)) refuse(field, url, 'has a control character or line break');
  return url;
}
