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
import { isMap, isScalar, parseDocument } from 'yaml';
import { configSchema } from '../../config/config.ts';
import { schemaIssue } from '../../definition/yaml-file.ts';
import { ConnectorError } from './connector-error.ts';
import { keyEnv, providers, settable } from './settings-tools.ts';

/** The key's path in config.yaml, or a one-line refusal. */
export function settingPath(key: string, configPath: string): string[] {
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
export function writeSetting(
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
