import { z } from 'zod';
import { AgentdError } from '../core/errors.ts';
import type { CedarAuthorizer, DecideRequest, Decision } from './authorizer.ts';
import {
  fileResource,
  hostResource,
  normalizePath,
  type Resource,
  serverResource,
} from './resources.ts';
import type { GeneratedSchema } from './schema.ts';

const resourceSchema = z.union([
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ dir: z.string().min(1) }),
  z.strictObject({ host: z.string().min(1) }),
  z.strictObject({ url: z.string().min(1) }),
]);

/** A file of policy test cases: requests and the decision each must get. */
export const casesSchema = z.strictObject({
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
        expect: z.enum(['allow', 'deny', 'needs_approval']),
      }),
    )
    .min(1),
});

export type PolicyCases = z.output<typeof casesSchema>;

/** A case and the decision it got. */
export interface CaseOutcome {
  name: string;
  expect: PolicyCases['cases'][number]['expect'];
  decision: Decision;
  passed: boolean;
}

/**
 * Decides every case with `authorizer` (over the policy set under test). A case naming an
 * action the schema does not have, or a resource that cannot be made from its input, is one
 * line naming it (`where` says which file or request, for the message).
 */
export function decideCases(
  cases: Pick<PolicyCases, 'agent' | 'cases'>,
  options: { authorizer: CedarAuthorizer; schema: GeneratedSchema; where: string; agent: string },
): CaseOutcome[] {
  return cases.cases.map((c, i) => {
    const name = c.name ?? `${c.tool} ${JSON.stringify(c.input)}`;
    const info = options.schema.actions.get(c.tool);
    if (!info) {
      const known = [...options.schema.actions.keys()];
      throw new AgentdError(
        'usage',
        `${options.where}: cases.${i}.tool: "${c.tool}" is not an action of ${options.agent}'s schema (write server.tool, e.g. ${known.slice(0, 4).join(', ')}; agentd policy schema --agent ${cases.agent} lists them)`,
      );
    }
    let resources: Resource[];
    try {
      resources = resourcesOf(info.resourceKind, c.tool, c.input, c.resource);
    } catch (error) {
      throw new AgentdError('usage', `${options.where}: cases.${i}: ${(error as Error).message}`);
    }
    const request: DecideRequest = {
      action: c.tool,
      resources,
      input: c.input,
      ...(c.agent ? { agent: c.agent } : {}),
      ...(c.user ? { user: c.user } : {}),
    };
    const decision = options.authorizer.decide(request);
    return { name, expect: c.expect, decision, passed: decision.decision === c.expect };
  });
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
