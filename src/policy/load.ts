import { existsSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type { AgentSpec } from '../definition/agent-spec.ts';
import type { JsonSchema } from '../models/model.ts';
import { openStore, storeExists } from '../store/open-store.ts';
import { loadTools } from '../tools/load-tools.ts';
import type { ServerEntry } from '../tools/registry/server-entry.ts';
import type { Tool } from '../tools/tool.ts';
import type { ToolOrigin } from '../tools/tool-origin.ts';
import { builtinServers } from '../tools/tool-ref.ts';
import type { OfferedTool } from '../tools/toolset.ts';
import { type Authorizer, CedarAuthorizer, permissiveAuthorizer } from './authorizer.ts';
import { type Cedar, loadCedar } from './cedar.ts';
import { actionOf, manifestsOf, mergeManifests, type ToolManifest } from './manifests.ts';
import {
  formatProblem,
  type Policy,
  type PolicyFile,
  type PolicyMode,
  type PolicyProblem,
  parsePolicies,
  policySetVersion,
  readPolicyDir,
  validatePolicies,
} from './policy-set.ts';
import { ResourceResolver } from './resources.ts';
import { type GeneratedSchema, generateSchema } from './schema.ts';

/** Where an agent's policies are, and how they apply. */
export interface PolicySource {
  dir: string;
  mode: PolicyMode;
  /** `policy.approval_timeout`: how long a call waits for a person's approval. */
  approvalTimeoutMs?: number;
}

/**
 * The policy folder of a spec: its `policy:` (folder default `policies/` beside it), or,
 * without one, a `policies/` folder beside it that has `.cedar` files. Undefined: the agent
 * has no policy, every call is allowed, and its runs say so.
 */
export function policySourceOf(spec: AgentSpec): PolicySource | undefined {
  if (spec.policy?.set && !existsSync(spec.policy.dir)) {
    throw new AgentdError(
      'policy_invalid',
      `${spec.path}: policy.set: policy set "${spec.policy.set}" has no active version on this machine (agentd policy activate ${spec.policy.set}; agentd policy sets lists them)`,
    );
  }
  if (spec.policy) return spec.policy;
  const dir = join(dirname(resolve(spec.path)), 'policies');
  try {
    if (readdirSync(dir).some((name) => name.endsWith('.cedar'))) return { dir, mode: 'enforce' };
  } catch {
    // no such folder
  }
  return undefined;
}

/** The person a run acts for: `AGENTD_USER`, else the operating system's user. */
export function runUser(env: Readonly<Record<string, string | undefined>>): string {
  if (env.AGENTD_USER) return env.AGENTD_USER;
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** A policy folder read, parsed and checked against a schema. */
export interface CheckedPolicySet {
  cedar: Cedar;
  files: PolicyFile[];
  policies: Policy[];
  schema: GeneratedSchema;
  /** Errors first; warnings after. */
  problems: PolicyProblem[];
  version: string;
}

export async function checkPolicySet(
  dir: string,
  manifests: readonly ToolManifest[],
): Promise<CheckedPolicySet> {
  const files = readPolicyDir(dir);
  const cedar = await loadCedar();
  const schema = generateSchema(manifests);
  const parsed = parsePolicies(cedar, files);
  const problems = [...parsed.problems];
  // Files that do not parse are not validated too (it would say the same again).
  const broken = new Set(problems.map((p) => p.file));
  problems.push(
    ...validatePolicies(
      cedar,
      files.filter((f) => !broken.has(f.display)),
      schema.json,
    ),
  );
  problems.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  return {
    cedar,
    files,
    policies: parsed.policies,
    schema,
    problems,
    version: policySetVersion(parsed.policies, schema.version),
  };
}

export interface RunAuthorizerOptions {
  spec: AgentSpec;
  config: Config;
  tools: readonly Tool[];
  /** Every tool of the servers the run connected (named or not). */
  offered: readonly OfferedTool[];
  cwd: string;
  onNotice?: (notice: string) => void;
}

/**
 * The authorizer of a run: permissive (and recorded as such) when the spec has no policy;
 * otherwise its policy set checked against the schema of the run's tools (and every other
 * tool this machine knows, so a shared policy set may name them). An invalid set never
 * applies: the run refuses to start, with one line naming the first error.
 */
export async function runAuthorizer(options: RunAuthorizerOptions): Promise<Authorizer> {
  const { spec, config } = options;
  const source = policySourceOf(spec);
  if (!source) return permissiveAuthorizer;
  const manifests = mergeManifests(
    manifestsOf(options.tools),
    options.offered.map(offeredManifest),
    await builtinManifests(config, options.cwd),
    await registryManifests(config),
  );
  const checked = await checkPolicySet(source.dir, manifests);
  const errors = checked.problems.filter((p) => p.severity === 'error');
  if (errors.length) {
    const more =
      errors.length > 1
        ? ` (and ${errors.length - 1} more; agentd policy validate ${source.dir} --agent ${spec.path} lists them)`
        : '';
    throw new AgentdError(
      'policy_invalid',
      `${spec.path}: policy: ${formatProblem(errors[0]!)}${more}; the run did not start`,
    );
  }
  if (checked.policies.length === 0) {
    options.onNotice?.(`${source.dir} has no policies: every tool call will be denied`);
  }
  return authorizerFor(checked, {
    mode: source.mode,
    dir: source.dir,
    agent: spec.name,
    user: runUser(config.env),
    resources: new ResourceResolver({
      connectors: spec.connectors,
      cwd: options.cwd,
      specDir: dirname(resolve(spec.path)),
    }),
    ...(source.approvalTimeoutMs !== undefined
      ? { approvalTimeoutMs: source.approvalTimeoutMs }
      : {}),
  });
}

/** An authorizer over a checked policy set (its errors must have been dealt with). */
export function authorizerFor(
  checked: CheckedPolicySet,
  options: {
    mode: PolicyMode;
    dir: string;
    agent: string;
    user: string;
    resources: Pick<ResourceResolver, 'resolve'>;
    approvalTimeoutMs?: number;
  },
): CedarAuthorizer {
  return new CedarAuthorizer({
    cedar: checked.cedar,
    policies: checked.policies,
    schema: checked.schema,
    version: checked.version,
    files: checked.files.map((f) => f.display),
    ...options,
  });
}

/**
 * The manifests of the tools a spec names and every tool this machine knows, without
 * starting a server: in-process modules are imported, the built-in connectors listed in
 * this process, registered servers' tools read from the registry (as `mcp add` or
 * `mcp refresh` last listed them).
 */
export async function specManifests(
  spec: AgentSpec,
  config: Config,
  cwd: string,
): Promise<ToolManifest[]> {
  const modules = spec.tools.flatMap((s) => (s.kind === 'module' ? [s] : []));
  const moduleTools = modules.length ? await loadTools(modules, spec.path) : [];
  const registered = await registryManifests(config);
  const known = new Set(registered.map((m) => m.action));
  for (const source of spec.tools) {
    if (source.kind !== 'server' || builtinServers.includes(source.server as never)) continue;
    if (![...known].some((action) => action.startsWith(`${source.server}.`))) {
      throw new AgentdError(
        'policy_invalid',
        `${spec.path}: tools: no tools of MCP server "${source.server}" are known on this machine (agentd mcp add ${source.server} ..., or agentd mcp refresh ${source.server})`,
      );
    }
  }
  const search: ToolManifest[] = [
    {
      action: 'registry:search',
      origin: { kind: 'registry-search' },
      inputSchema: {
        type: 'object',
        properties: { query: { type: 'string' }, limit: { type: 'integer', default: 10 } },
        required: ['query'],
      } as JsonSchema,
    },
  ];
  return mergeManifests(
    manifestsOf(moduleTools),
    await builtinManifests(config, cwd),
    registered,
    search,
  );
}

function offeredManifest(offered: OfferedTool): ToolManifest {
  return {
    action: actionOf(offered.origin, ''),
    origin: offered.origin,
    inputSchema: offered.inputSchema,
    description: offered.description,
  };
}

let builtinCache: Promise<ToolManifest[]> | undefined;

/** Every tool of every built-in connector, listed once per process. */
export function builtinManifests(config: Config, cwd: string): Promise<ToolManifest[]> {
  builtinCache ??= (async () => {
    const [{ McpConnection }, { builtinServerConfig }] = await Promise.all([
      import('../tools/mcp/mcp-connection.ts'),
      import('../tools/builtin-servers.ts'),
    ]);
    const out: ToolManifest[] = [];
    for (const server of builtinServers) {
      let connection: InstanceType<typeof McpConnection> | undefined;
      try {
        connection = new McpConnection({
          name: server,
          config: builtinServerConfig(server, {}, cwd, config),
        });
        for (const d of await connection.listTools()) {
          const origin: ToolOrigin = { kind: 'connector', server, tool: d.name };
          out.push({
            action: actionOf(origin, d.name),
            origin,
            inputSchema: d.inputSchema as JsonSchema,
            description: d.description ?? '',
          });
        }
      } catch {
        // A connector that cannot start here is left out; the run's own tools are listed live.
      } finally {
        await connection?.close();
      }
    }
    return out;
  })();
  return builtinCache;
}

/** The tools of every registered server, as last listed. */
export async function registryManifests(config: Config): Promise<ToolManifest[]> {
  if (!storeExists(config)) return [];
  const store = openStore(config);
  try {
    const transports = new Map(
      (await store.listServers()).map((s) => [s.name, (s.entry as ServerEntry).transport?.type]),
    );
    return (await store.listServerTools()).map((t) => {
      const origin: ToolOrigin = {
        kind: transports.get(t.server) === 'http' ? 'mcp-http' : 'mcp-stdio',
        server: t.server,
        tool: t.name,
      };
      return {
        action: actionOf(origin, t.name),
        origin,
        inputSchema: (t.inputSchema ?? { type: 'object' }) as JsonSchema,
        description: t.description,
      };
    });
  } catch (error) {
    throw new AgentdError(
      'store_failed',
      `cannot read the registry's tools: ${errorMessage(error)}`,
    );
  } finally {
    await store.close();
  }
}
