import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import type { ConnectorOptions } from '../../src/definition/agent-spec.ts';
import type { Authorizer } from '../../src/policy/authorizer.ts';
import { authorizerFor, builtinManifests, checkPolicySet } from '../../src/policy/load.ts';
import { manifestsOf, mergeManifests, type ToolManifest } from '../../src/policy/manifests.ts';
import type { PolicyMode } from '../../src/policy/policy-set.ts';
import { ResourceResolver } from '../../src/policy/resources.ts';
import type { Tool } from '../../src/tools/tool.ts';

/** Writes policy files into `<dir>/policies` and returns that folder. */
export function writePolicies(dir: string, files: Record<string, string>): string {
  const policies = join(dir, 'policies');
  mkdirSync(policies, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(policies, name), text);
  return policies;
}

/**
 * A Cedar authorizer for `tools` (and the built-in connectors' tools) over the given policy
 * files; throws with every problem when the set is invalid.
 */
export async function policyFor(
  dir: string,
  files: Record<string, string>,
  options: {
    tools?: readonly Tool[];
    mode?: PolicyMode;
    agent?: string;
    connectors?: ConnectorOptions;
    cwd?: string;
    manifests?: ToolManifest[];
  } = {},
): Promise<Authorizer> {
  const policies = writePolicies(dir, files);
  const config = loadConfig({ AGENTD_HOME: join(dir, 'home') });
  const cwd = options.cwd ?? dir;
  const checked = await checkPolicySet(
    policies,
    mergeManifests(
      manifestsOf(options.tools ?? []),
      options.manifests ?? [],
      await builtinManifests(config, cwd),
    ),
  );
  const errors = checked.problems.filter((p) => p.severity === 'error');
  if (errors.length) {
    throw new Error(errors.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join('\n'));
  }
  return authorizerFor(checked, {
    mode: options.mode ?? 'enforce',
    dir: policies,
    agent: options.agent ?? 'tester',
    user: 'alice',
    resources: new ResourceResolver({ connectors: options.connectors ?? {}, cwd }),
  });
}
