import type { Config } from '../config/config.ts';
import { AgentdError } from '../core/errors.ts';
import type { JsonSchema } from '../models/model.ts';
import { auditEntryOf, type Decision } from '../policy/authorizer.ts';
import { authorizerFor, checkPolicySet, registryManifests } from '../policy/load.ts';
import { actionOf, mergeManifests, type ToolManifest } from '../policy/manifests.ts';
import type { PolicyMode } from '../policy/policy-set.ts';
import { formatProblem } from '../policy/policy-set.ts';
import { ResourceResolver } from '../policy/resources.ts';
import type { Store } from '../store/store.ts';
import { serverEntrySchema } from '../tools/registry/server-entry.ts';
import type { ToolOrigin } from '../tools/tool-origin.ts';
import { type GatewayAuthorize, type GatewayCall, gatewayServerActions } from './gateway-types.ts';

/** The principal the gateway's calls are decided for: `Agent::"gateway"`, user = the caller. */
export const gatewayAgent = 'gateway';

export interface GatewayPolicy {
  /** A folder of `.cedar` files; without one, every call through the gateway is denied. */
  dir?: string;
  mode?: PolicyMode;
}

/** Where a gateway call comes from, as the policy layer names actions and resources. */
function originOf(call: Pick<GatewayCall, 'server' | 'tool' | 'transport'>): {
  origin: ToolOrigin;
  toolName: string;
} {
  if (call.transport === 'agentd') {
    return call.tool === 'search_tools'
      ? { origin: { kind: 'registry-search' }, toolName: 'registry_search' }
      : { origin: { kind: 'module' }, toolName: `agentd.${call.tool}` };
  }
  return {
    origin: {
      kind: call.transport === 'http' ? 'mcp-http' : 'mcp-stdio',
      server: call.server,
      tool: call.tool,
    },
    toolName: `${call.server}__${call.tool}`,
  };
}

/** The gateway's own tools, for the policy schema. */
const ownManifests: ToolManifest[] = [
  {
    action: 'registry:search',
    origin: { kind: 'registry-search' },
    inputSchema: {
      type: 'object',
      properties: { query: { type: 'string' }, limit: { type: 'integer' } },
      required: ['query'],
    } as JsonSchema,
  },
  {
    action: 'agentd.launch_agent',
    origin: { kind: 'module' },
    inputSchema: {
      type: 'object',
      properties: {
        agent: { type: 'string' },
        task: { type: 'string' },
        wait: { type: 'boolean' },
      },
      required: ['agent', 'task'],
    } as JsonSchema,
  },
];

/** What the gateway's resource reads, prompts and completions hand the policy as input. */
const serverActionInputs: Record<(typeof gatewayServerActions)[number], JsonSchema> = {
  'resources:read': {
    type: 'object',
    properties: { uri: { type: 'string' } },
    required: ['uri'],
  } as JsonSchema,
  'prompts:get': {
    type: 'object',
    properties: { name: { type: 'string' }, arguments: { type: 'object' } },
    required: ['name'],
  } as JsonSchema,
  'completion:complete': {
    type: 'object',
    properties: {
      ref: {
        type: 'object',
        properties: { type: { type: 'string' }, name: { type: 'string' }, uri: { type: 'string' } },
        required: ['type'],
      },
      argument: {
        type: 'object',
        properties: { name: { type: 'string' }, value: { type: 'string' } },
        required: ['name', 'value'],
      },
    },
    required: ['ref', 'argument'],
  } as JsonSchema,
};

/**
 * `<server>.resources:read`, `<server>.prompts:get` and `<server>.completion:complete` for
 * every registered server: the resource tools agents get are named the same way.
 */
async function serverActionManifests(store: Store): Promise<ToolManifest[]> {
  const out: ToolManifest[] = [];
  for (const record of await store.listServers()) {
    const entry = serverEntrySchema.safeParse(record.entry);
    if (!entry.success) continue;
    for (const tool of gatewayServerActions) {
      const origin: ToolOrigin = {
        kind: entry.data.transport.type === 'http' ? 'mcp-http' : 'mcp-stdio',
        server: entry.data.name,
        tool,
      };
      out.push({
        action: actionOf(origin, tool),
        origin,
        inputSchema: serverActionInputs[tool],
      });
    }
  }
  return out;
}

/**
 * The gateway's policy point: every call (and resource read, prompt and completion) is decided by Cedar with `Agent::"gateway"` as the
 * principal and the caller (the API key's name) as its user, default deny, and recorded in
 * the hash-chained audit log before it is forwarded. No policy folder: every call is denied
 * (and audited), never allowed by default. An invalid policy set stops `agentd serve` from
 * starting, with one line.
 */
export async function gatewayAuthorizer(
  config: Config,
  store: Store,
  policy: GatewayPolicy,
): Promise<GatewayAuthorize> {
  const record = async (decision: Decision) => {
    await store.appendAudit(
      auditEntryOf(decision, { at: new Date().toISOString(), runId: null, callId: null }),
    );
  };
  if (!policy.dir) {
    return async (call) => {
      const { origin, toolName } = originOf(call);
      await record({
        principal: `Agent::"${gatewayAgent}"`,
        user: call.caller.name,
        action: actionOf(origin, toolName),
        resource: `Server::"${call.server}"`,
        inputDigest: '',
        decision: 'deny',
        effect: 'deny',
        mode: 'enforce',
        policies: [],
        errors: [],
        reason: 'no gateway policy',
        latencyUs: 0,
      });
      return {
        allow: false,
        reason:
          'no policy set for the gateway: start agentd serve with --policy <folder of .cedar files>',
      };
    };
  }
  const manifests = mergeManifests(
    await registryManifests(config),
    await serverActionManifests(store),
    ownManifests,
  );
  const checked = await checkPolicySet(policy.dir, manifests);
  const errors = checked.problems.filter((p) => p.severity === 'error');
  if (errors.length) {
    throw new AgentdError(
      'policy_invalid',
      `--policy: ${formatProblem(errors[0]!)}${errors.length > 1 ? ` (and ${errors.length - 1} more; agentd policy validate ${policy.dir} lists them)` : ''}`,
    );
  }
  const authorizer = authorizerFor(checked, {
    mode: policy.mode ?? 'enforce',
    dir: policy.dir,
    agent: gatewayAgent,
    user: 'unknown',
    resources: new ResourceResolver({ connectors: {}, cwd: config.home }),
  });
  return async (call) => {
    const { origin, toolName } = originOf(call);
    const action = actionOf(origin, toolName);
    const info = checked.schema.actions.get(action);
    const resources = info
      ? await new ResourceResolver({ connectors: {}, cwd: config.home }).resolve(
          info.resourceKind,
          origin,
          call.input,
        )
      : [];
    const decision = authorizer.decide({
      action,
      resources,
      input: call.input,
      user: call.caller.name,
      ...(call.caller.claims ? { claims: call.caller.claims } : {}),
    });
    await record(decision);
    // The gateway answers its caller at once: a call that needs a person's approval is denied.
    const reason =
      decision.effect === 'needs_approval'
        ? `${decision.reason}; the gateway cannot wait for an approval, so the call is denied`
        : decision.reason;
    return { allow: decision.effect === 'allow', reason };
  };
}
