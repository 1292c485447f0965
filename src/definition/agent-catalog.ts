import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { Config } from '../config/config.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';
import { type AgentSpec, loadAgentSpec } from './agent-spec.ts';

/** An agent this machine has: a spec file in one of the agent folders. */
export interface CatalogAgent {
  /** The file's name without `.yaml`, or the folder's name for `<name>/agent.yaml`. */
  name: string;
  /** Absolute path of the spec file. */
  path: string;
  /** `provider/model-id` as the spec writes it (also for a broken spec, when it can be read). */
  model?: string;
  /** The spec's description, or else the first line of its instructions. */
  description?: string;
  valid: boolean;
  /** Why the spec cannot run, in one line (only when not valid). */
  error?: string;
}

export interface AgentCatalog {
  agents: CatalogAgent[];
  /** The folders looked in, in order: `$AGENTD_HOME/agents`, then `agent_dirs`. */
  dirs: string[];
  /** Folders named in `agent_dirs` that could not be read, one line each. */
  notes: string[];
}

const specExtensions = new Set(['.yaml', '.yml']);

/** The folders agents are looked for in, first first. */
export function agentFolders(config: Pick<Config, 'home' | 'agentDirs'>): string[] {
  return [...new Set([join(config.home, 'agents'), ...(config.agentDirs ?? [])])];
}

/**
 * The agents this machine has: in each agent folder, every `<name>.yaml` and every
 * `<name>/agent.yaml`. Each spec is loaded to check it; a broken one is listed with its error,
 * never thrown. When two have the same name the first folder wins and the other is listed as
 * broken, saying which one it is hidden by.
 */
export function listAgents(config: Pick<Config, 'home' | 'agentDirs'>): AgentCatalog {
  const dirs = agentFolders(config);
  const agents: CatalogAgent[] = [];
  const notes: string[] = [];
  const byName = new Map<string, CatalogAgent>();
  for (const [index, dir] of dirs.entries()) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // $AGENTD_HOME/agents need not exist; a folder the config names should.
      if (index === 0 && code === 'ENOENT') continue;
      notes.push(
        code === 'ENOENT'
          ? `agent_dirs: ${dir} does not exist (create it, or remove it from config.yaml)`
          : code === 'ENOTDIR'
            ? `agent_dirs: ${dir} is not a folder`
            : `agent_dirs: cannot read ${dir}: ${errorMessage(error)}`,
      );
      continue;
    }
    for (const entry of names) {
      if (entry.startsWith('.')) continue;
      const found = specIn(dir, entry);
      if (!found) continue;
      const agent = examine(found.name, found.path, found.named);
      const first = byName.get(agent.name);
      if (first) {
        agent.valid = false;
        agent.error = `${agent.path}: hidden by the agent of the same name in ${first.path} (rename one)`;
      } else {
        byName.set(agent.name, agent);
      }
      agents.push(agent);
    }
  }
  return { agents, dirs, notes };
}

/** A spec in a folder entry: `<name>.yaml` or `<name>/agent.yaml`. */
function specIn(
  dir: string,
  entry: string,
): { name: string; path: string; named: 'file' | 'folder' } | undefined {
  const path = join(dir, entry);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    return undefined; // a dangling symlink, or gone since the listing
  }
  if (isDirectory) {
    const spec = join(path, 'agent.yaml');
    return existsSync(spec) ? { name: entry, path: spec, named: 'folder' } : undefined;
  }
  const ext = extname(entry);
  if (!specExtensions.has(ext)) return undefined;
  return { name: basename(entry, ext), path, named: 'file' };
}

function examine(name: string, path: string, named: 'file' | 'folder'): CatalogAgent {
  const agent: CatalogAgent = { name, path: resolve(path), valid: true };
  try {
    const spec = loadAgentSpec(path);
    agent.model = `${spec.provider}/${spec.modelId}`;
    const description = describe(spec.description, spec.instructions);
    if (description) agent.description = description;
    if (spec.name !== name) {
      agent.valid = false;
      agent.error = `${path}: name: "${spec.name}" differs from its ${named} name "${name}" (an agent in an agents folder is named by its ${named}; make them the same)`;
    }
  } catch (error) {
    agent.valid = false;
    agent.error = errorMessage(error);
    Object.assign(agent, roughly(path));
  }
  return agent;
}

/** What can be read of a broken spec, to list it recognizably. */
function roughly(path: string): Pick<CatalogAgent, 'model' | 'description'> {
  try {
    const raw: unknown = parse(readFileSync(path, 'utf8'));
    if (!raw || typeof raw !== 'object') return {};
    const { model, description, instructions } = raw as Record<string, unknown>;
    const out: Pick<CatalogAgent, 'model' | 'description'> = {};
    if (typeof model === 'string') out.model = model;
    const text = describe(
      typeof description === 'string' ? description : undefined,
      typeof instructions === 'string' ? instructions : '',
    );
    if (text) out.description = text;
    return out;
  } catch {
    return {};
  }
}

function describe(description: string | undefined, instructions: string): string | undefined {
  const text = description?.trim() || instructions;
  return text
    .split('\n')
    .map((line) => line.trim())
    .find(Boolean);
}

export function findAgent(catalog: AgentCatalog, name: string): CatalogAgent | undefined {
  return catalog.agents.find((agent) => agent.name === name);
}

/** The one-line error for a name the catalog does not have. */
export function unknownAgent(catalog: AgentCatalog, name: string): AgentdError {
  const known = [...new Set(catalog.agents.map((a) => a.name))];
  const shown =
    known.length > 20
      ? `${known.slice(0, 20).join(', ')}, … (${known.length} in all)`
      : known.join(', ');
  return new AgentdError(
    'spec_not_found',
    known.length
      ? `no agent "${name}" (known: ${shown}; see agentd agents list)`
      : `no agent "${name}": there are no agents yet (put ${name}.yaml or ${name}/agent.yaml in ${catalog.dirs[0]}, or name folders in agent_dirs in config.yaml)`,
  );
}

/** The catalog's agent of this name, loaded: throws its one-line error when it is unknown or broken. */
export function loadCatalogAgent(
  config: Pick<Config, 'home' | 'agentDirs'>,
  name: string,
): AgentSpec {
  const catalog = listAgents(config);
  const agent = findAgent(catalog, name);
  if (!agent) throw unknownAgent(catalog, name);
  if (!agent.valid) throw new AgentdError('spec_invalid', agent.error ?? `${agent.path}: invalid`);
  return loadAgentSpec(agent.path);
}

const bareName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * What `agentd run <agent>` names: a spec file when that path exists (or looks like one), or
 * else an agent of the catalog by name. Returns the spec file's path.
 */
export function resolveAgentRef(ref: string, config: Pick<Config, 'home' | 'agentDirs'>): string {
  // An agent's folder (what agentd init makes) stands for its agent.yaml.
  if (existsSync(ref) && statSync(ref).isDirectory()) {
    const spec = join(ref, 'agent.yaml');
    if (existsSync(spec)) return spec;
    throw new AgentdError(
      'spec_not_found',
      `${ref}: is a folder without an agent.yaml; give the agent's YAML file`,
    );
  }
  if (existsSync(ref) || !bareName.test(ref) || specExtensions.has(extname(ref))) return ref;
  const catalog = listAgents(config);
  const agent = findAgent(catalog, ref);
  if (!agent) {
    const error = unknownAgent(catalog, ref);
    throw new AgentdError(
      'spec_not_found',
      error.message.replace(`no agent "${ref}"`, `no file "${ref}" and no agent "${ref}"`),
    );
  }
  if (!agent.valid) throw new AgentdError('spec_invalid', agent.error ?? `${agent.path}: invalid`);
  return agent.path;
}

/** A spec as plain data in the spec's own terms, for `agents show` and the settings connector. */
export function specSummary(spec: AgentSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: spec.name,
    path: resolve(spec.path),
    model: `${spec.provider}/${spec.modelId}`,
  };
  if (spec.description) out.description = spec.description;
  out.instructions = spec.instructions;
  out.tools = spec.tools.map((tool) =>
    tool.kind === 'module'
      ? `module ${tool.module}${tool.only ? ` (only ${tool.only.join(', ')})` : ''}`
      : tool.kind === 'server'
        ? tool.ref
        : 'registry:search',
  );
  const sections = {
    connectors: spec.connectors,
    limits: spec.limits,
    model_settings: spec.settings,
    provider: spec.providerOptions,
    compaction: spec.compaction,
  };
  for (const [key, value] of Object.entries(sections)) {
    if (Object.keys(value).length) out[key] = snakeKeys(value);
  }
  if (spec.script) out.script = spec.script;
  return out;
}

/** Keys as a spec writes them (`maxTurns` is `max_turns`; durations stay in ms as `*_ms`). */
function snakeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      snakeKeys(inner),
    ]),
  );
}
