import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { AgentdError } from '../core/errors.ts';
import type { PolicySetRecord, Store } from '../store/store.ts';
import { builtinManifests, checkPolicySet, registryManifests } from './load.ts';
import { mergeManifests, type ToolManifest } from './manifests.ts';
import { formatProblem, readPolicyDir } from './policy-set.ts';

export const policySetNamePattern = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Where the active version of a stored set is written out for runs: `policy: { set: name }`. */
export function activeSetDir(home: string, name: string): string {
  return join(home, 'policy-sets', name, 'active');
}

function digestOf(files: readonly { name: string; text: string }[]): string {
  const hash = createHash('sha256');
  for (const file of files) hash.update(`${file.name}\0${file.text}\0`);
  return hash.digest('hex');
}

/**
 * Saves the `.cedar` files of `dir` as the next version of the stored set `name` (the same
 * files saved again are the same version). Saving activates nothing.
 */
export async function savePolicySet(
  store: Store,
  name: string,
  dir: string,
): Promise<PolicySetRecord> {
  if (!policySetNamePattern.test(name)) {
    throw new AgentdError(
      'usage',
      `--as: "${name}" is not a policy set name (lowercase letters, digits, - and _)`,
    );
  }
  const files = readPolicyDir(dir).map((file) => ({
    name: file.display.split(/[\\/]/).pop()!,
    text: file.text,
  }));
  if (files.length === 0) {
    throw new AgentdError('usage', `${dir}: has no .cedar files to save`);
  }
  return savePolicyFiles(store, name, files);
}

/** Saves files given as text (sorted by name) as the next version of `name`. */
export function savePolicyFiles(
  store: Store,
  name: string,
  files: readonly { name: string; text: string }[],
): Promise<PolicySetRecord> {
  const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return store.savePolicySet(name, sorted, digestOf(sorted), new Date().toISOString());
}

/**
 * Makes a saved version the one in force, after checking it against the schema of every tool
 * this machine knows (and `manifests`, an agent's own tools, when given): an invalid set is
 * never activated. Its files are written to `activeSetDir`, replaced in one rename.
 */
export async function activatePolicySet(
  store: Store,
  config: Config,
  name: string,
  version: number | undefined,
  manifests: readonly ToolManifest[] = [],
): Promise<PolicySetRecord> {
  const all = (await store.listPolicySets()).filter((s) => s.name === name);
  if (all.length === 0) {
    throw new AgentdError(
      'usage',
      `no policy set "${name}" is saved (agentd policy save <dir> --as ${name})`,
    );
  }
  const chosen = version === undefined ? all.at(-1)! : all.find((s) => s.version === version);
  if (!chosen) {
    throw new AgentdError(
      'usage',
      `policy set "${name}" has no version ${version} (it has ${all.map((s) => s.version).join(', ')})`,
    );
  }
  const target = activeSetDir(config.home, name);
  const staging = `${target}.${process.pid}.tmp`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    for (const file of chosen.files) writeFileSync(join(staging, file.name), file.text);
    const checked = await checkPolicySet(
      staging,
      mergeManifests(
        manifests,
        await builtinManifests(config, config.home),
        await registryManifests(config),
      ),
    );
    const errors = checked.problems.filter((p) => p.severity === 'error');
    if (errors.length) {
      throw new AgentdError(
        'policy_invalid',
        `policy set ${name}@${chosen.version} is not valid, so it was not activated: ${formatProblem(errors[0]!).replace(`${staging}/`, '')}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`,
      );
    }
    rmSync(`${target}.old`, { recursive: true, force: true });
    try {
      renameSync(target, `${target}.old`);
    } catch {
      // nothing active yet
    }
    renameSync(staging, target);
    rmSync(`${target}.old`, { recursive: true, force: true });
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  await store.activatePolicySet(name, chosen.version, new Date().toISOString());
  return { ...chosen, active: true };
}
