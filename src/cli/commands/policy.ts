import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import type { DecideRequest } from '../../policy/authorizer.ts';
import {
  authorizerFor,
  checkPolicySet,
  policySourceOf,
  runUser,
  specManifests,
} from '../../policy/load.ts';
import { formatProblem, type PolicyMode } from '../../policy/policy-set.ts';
import {
  fileResource,
  hostResource,
  normalizePath,
  type Resource,
  ResourceResolver,
  serverResource,
} from '../../policy/resources.ts';
import { loadAgentSpec } from '../../spec/agent-spec.ts';
import { parseYamlFile } from '../../spec/yaml-file.ts';
import { paint } from '../format.ts';

async function schemaFor(agentPath: string | undefined, command: string) {
  if (!agentPath) {
    throw new AgentdError(
      'usage',
      `agentd policy ${command}: --agent <agent.yaml> is required (the policy schema is made from the agent's tools)`,
    );
  }
  const spec = loadAgentSpec(agentPath);
  const config = loadConfig();
  const manifests = await specManifests(spec, config, process.cwd());
  return { spec, config, manifests };
}

/** `agentd policy validate [dir] --agent <spec>`: every problem as file:line:col: message. */
export async function policyValidateCommand(
  dir: string | undefined,
  options: { agent?: string },
): Promise<number> {
  const { spec, manifests } = await schemaFor(options.agent, 'validate');
  const folder = dir
    ? resolve(dir)
    : (policySourceOf(spec)?.dir ?? join(dirname(resolve(spec.path)), 'policies'));
  const checked = await checkPolicySet(folder, manifests);
  for (const problem of checked.problems) process.stdout.write(`${formatProblem(problem)}\n`);
  const errors = checked.problems.filter((p) => p.severity === 'error').length;
  const files = `${checked.files.length} file${checked.files.length === 1 ? '' : 's'}`;
  if (errors) {
    process.stderr.write(
      `${paint('red', 'invalid:')} ${errors} error${errors === 1 ? '' : 's'} in ${files}; a run with these policies does not start\n`,
    );
    return 1;
  }
  process.stderr.write(
    `${paint('green', 'valid:')} ${checked.policies.length} polic${checked.policies.length === 1 ? 'y' : 'ies'} in ${files}, checked against the schema of ${spec.name} (${checked.schema.actions.size} actions)\n`,
  );
  return 0;
}

/** `agentd policy schema --agent <spec>`: the Cedar schema policies are checked against. */
export async function policySchemaCommand(options: {
  agent?: string;
  json?: boolean;
}): Promise<number> {
  const { manifests } = await schemaFor(options.agent, 'schema');
  const { generateSchema } = await import('../../policy/schema.ts');
  const { loadCedar } = await import('../../policy/cedar.ts');
  const schema = generateSchema(manifests);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(schema.json, null, 2)}\n`);
    return 0;
  }
  const text = (await loadCedar()).schemaToText(schema.json);
  if (text.type === 'failure')
    throw new Error(`the schema does not print: ${text.errors[0]?.message}`);
  process.stdout.write(text.text.replaceAll('__cedar::', ''));
  return 0;
}

const resourceSchema = z.union([
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ dir: z.string().min(1) }),
  z.strictObject({ host: z.string().min(1) }),
  z.strictObject({ url: z.string().min(1) }),
]);

const casesSchema = z.strictObject({
  agent: z.string().min(1),
  policies: z.string().min(1).optional(),
  mode: z.enum(['enforce', 'log_only']).optional(),
  cases: z
    .array(
      z.strictObject({
        name: z.string().optional(),
        tool: z.string().min(1),
        input: z.record(z.string(), z.unknown()).default({}),
        resource: resourceSchema.optional(),
        agent: z.string().optional(),
        user: z.string().optional(),
        expect: z.enum(['allow', 'deny']),
      }),
    )
    .min(1),
});

/**
 * `agentd policy test <cases.yaml>`: requests and the decision each must get, for CI. Exits
 * 1 when any decision differs.
 */
export async function policyTestCommand(file: string): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new AgentdError('usage', `${file}: cases file not found`);
  }
  const cases = parseYamlFile(file, text, casesSchema);
  const base = dirname(resolve(file));
  const { spec, config, manifests } = await schemaFor(resolve(base, cases.agent), 'test');
  const source = policySourceOf(spec);
  const dir = cases.policies ? resolve(base, cases.policies) : source?.dir;
  if (!dir) {
    throw new AgentdError(
      'usage',
      `${file}: policies: ${cases.agent} names no policy folder; say which with policies: ./policies`,
    );
  }
  const checked = await checkPolicySet(dir, manifests);
  const errors = checked.problems.filter((p) => p.severity === 'error');
  if (errors.length) {
    throw new AgentdError(
      'policy_invalid',
      `${formatProblem(errors[0]!)}${errors.length > 1 ? ` (and ${errors.length - 1} more; see agentd policy validate)` : ''}`,
    );
  }
  const mode: PolicyMode = cases.mode ?? source?.mode ?? 'enforce';
  const authorizer = authorizerFor(checked, {
    mode,
    dir,
    agent: spec.name,
    user: runUser(config.env),
    resources: new ResourceResolver({ connectors: spec.connectors, cwd: process.cwd() }),
  });
  let failed = 0;
  for (const [i, c] of cases.cases.entries()) {
    const name = c.name ?? `${c.tool} ${JSON.stringify(c.input)}`;
    const info = checked.schema.actions.get(c.tool);
    if (!info) {
      const known = [...checked.schema.actions.keys()];
      throw new AgentdError(
        'usage',
        `${file}: cases.${i}.tool: "${c.tool}" is not an action of ${spec.name}'s schema (write server.tool, e.g. ${known.slice(0, 4).join(', ')}; agentd policy schema --agent ${cases.agent} lists them)`,
      );
    }
    let resources: Resource[];
    try {
      resources = resourcesOf(info.resourceKind, c.tool, c.input, c.resource);
    } catch (error) {
      throw new AgentdError('usage', `${file}: cases.${i}: ${(error as Error).message}`);
    }
    const request: DecideRequest = {
      action: c.tool,
      resources,
      input: c.input,
      ...(c.agent ? { agent: c.agent } : {}),
      ...(c.user ? { user: c.user } : {}),
    };
    const decision = authorizer.decide(request);
    if (decision.decision === c.expect) {
      process.stdout.write(
        `${paint('green', '✓')} ${name}: ${decision.decision} (${decision.reason})\n`,
      );
    } else {
      failed++;
      process.stdout.write(
        `${paint('red', '✗')} ${name}: expected ${c.expect}, got ${decision.decision} (${decision.reason})\n`,
      );
    }
  }
  const passed = cases.cases.length - failed;
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}

/** The resources of a test case: as given, or from its input the way the connector reads it. */
function resourcesOf(
  kind: string,
  action: string,
  input: Record<string, unknown>,
  given: z.output<typeof resourceSchema> | undefined,
): Resource[] {
  if (given) {
    if ('file' in given) return [fileResource(normalizePath(given.file), false)];
    if ('dir' in given) return [fileResource(normalizePath(given.dir), true)];
    if ('host' in given) return [hostResource(`http://${given.host}/`)];
    return [hostResource(given.url)];
  }
  const server = action.includes('.') ? action.slice(0, action.indexOf('.')) : '';
  switch (kind) {
    case 'file': {
      const paths = 'from' in input || 'to' in input ? [input.from, input.to] : [input.path ?? '.'];
      // Without a file system to look at: folders are what list and search take, "." and
      // paths ending in "/"; `resource: { dir: ... }` says so for any other.
      const folderTool = action === 'fs.list' || action === 'fs.search';
      return paths.map((p) => {
        if (typeof p !== 'string') {
          throw new Error('input has no path: give resource: { file: ... }');
        }
        const path = normalizePath(p);
        return fileResource(path, folderTool || path === '.' || p.endsWith('/'));
      });
    }
    case 'host':
      return [hostResource(input.url)];
    case 'module':
      return [{ uid: { type: 'Module', id: 'in-process' }, entities: [] }];
    case 'registry':
      return [{ uid: { type: 'Registry', id: 'local' }, entities: [] }];
    default:
      return [
        serverResource(
          server === 'fs' || server === 'shell' || server === 'http' || server === 'settings'
            ? { kind: 'connector', server, tool: '' }
            : { kind: 'mcp-stdio', server, tool: '' },
        ),
      ];
  }
}
