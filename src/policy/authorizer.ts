import type { AuditEntry, Verdict } from '../core/audit.ts';
import { digestOf } from '../core/canonical-json.ts';
import { errorMessage } from '../core/errors.ts';
import type { RunPolicy } from '../core/events.ts';
import type { ToolOrigin } from '../tools/tool-origin.ts';
import type { Cedar, CedarValueJson, EntityJson } from './cedar.ts';
import { actionOf } from './manifests.ts';
import type { Policy, PolicyMode } from './policy-set.ts';
import type { Resource, ResourceResolver, Uid } from './resources.ts';
import { uidText } from './resources.ts';
import { type GeneratedSchema, inputValue } from './schema.ts';

/** A tool call about to run, as the policy layer is asked about it. */
export interface AuthorizationRequest {
  origin: ToolOrigin;
  /** The tool's name as the model sees it. */
  toolName: string;
  /** The input after validation (defaults applied): what the policies see. */
  input: unknown;
  /** The input as the model sent it (and the run log holds it): what the digest covers. */
  rawInput: unknown;
}

/** One decision on one tool call. */
export interface Decision {
  principal: string;
  user: string;
  action: string;
  /** The resources the call touches, as Cedar ids, comma-separated. */
  resource: string;
  inputDigest: string;
  /** What the policies in force decided. */
  decision: Verdict;
  /** What happens to the call: the decision, except in a log-only policy set. */
  effect: Verdict;
  mode: PolicyMode;
  policies: string[];
  /**
   * With `needs_approval`: the permits among `policies` annotated `@approval("required")`.
   * A call any of them allows waits for a person's answer, even when another permit allows
   * it too.
   */
  approvalPolicies?: string[];
  errors: string[];
  reason: string;
  /** What `@mode("log_only")` policies would change, when they would. */
  logOnly?: { decision: Verdict; policies: string[] };
  latencyUs: number;
}

/** The audit log's entry for a decision (`runId` and `callId` null outside a run). */
export function auditEntryOf(
  decision: Decision,
  where: { at: string; runId: string | null; callId: string | null },
): AuditEntry {
  return {
    ...where,
    principal: decision.principal,
    user: decision.user,
    action: decision.action,
    resource: decision.resource,
    inputDigest: decision.inputDigest,
    decision: decision.decision,
    effect: decision.effect,
    mode: decision.mode,
    policies: decision.policies,
    errors: decision.errors,
    reason: decision.reason,
    latencyUs: decision.latencyUs,
  };
}

/**
 * Decides whether a tool call may run. `authorize` resolves to undefined when no policy set
 * applies (the run said so when it started): the call runs and nothing is recorded.
 */
export interface Authorizer {
  readonly policy: RunPolicy;
  authorize(request: AuthorizationRequest): Promise<Decision | undefined>;
}

export const noPolicyMessage = 'no policy set: all calls allowed';

/** For agents whose spec names no policy: every call runs; the run records that it is so. */
export const permissiveAuthorizer: Authorizer = {
  policy: { mode: 'none', message: noPolicyMessage },
  authorize: async () => undefined,
};

export interface CedarAuthorizerOptions {
  cedar: Cedar;
  policies: readonly Policy[];
  schema: GeneratedSchema;
  /** The mode of the whole set: `log_only` records decisions and blocks nothing. */
  mode: PolicyMode;
  /** A content hash of the policies and schema: caches are keyed on it. */
  version: string;
  dir: string;
  files: string[];
  /** The agent's name: the principal `Agent::"name"`. */
  agent: string;
  /** The person the run is for: `User::"name"`. */
  user: string;
  resources: Pick<ResourceResolver, 'resolve'>;
  /** How long a call that needs approval waits for an answer (recorded in the run's policy). */
  approvalTimeoutMs?: number;
}

interface Evaluation {
  decision: Verdict;
  policies: string[];
  errors: string[];
}

/** A request with its resources already known (as `agentd policy test` gives them). */
export interface DecideRequest {
  action: string;
  resources: readonly Resource[];
  input: unknown;
  rawInput?: unknown;
  /** Another agent than the authorizer's, or another user. */
  agent?: string;
  user?: string;
  /** The caller's token claims (gateway calls with an OAuth token): `principal.claims`. */
  claims?: TokenClaims;
}

/** What policies see of an OAuth token: `principal.claims.sub`, `.iss`, `.scope`, `.groups`, `.email`. */
export interface TokenClaims {
  sub: string;
  iss: string;
  scope: string[];
  email?: string;
  groups?: string[];
}

/**
 * Decisions by Cedar: default deny (nothing runs that no policy permits), forbid wins, and
 * an evaluation error in any deciding policy denies (Cedar itself would skip the policy,
 * which for a forbid would allow). The policy set is parsed once per version and action:
 * each action gets the policies that can apply to it (by their principal and action
 * scopes), preparsed in the engine, so a decision evaluates only those.
 */
export class CedarAuthorizer implements Authorizer {
  readonly policy: RunPolicy;
  readonly #options: CedarAuthorizerOptions;
  readonly #schemaId: string;
  readonly #byId: Map<string, Policy>;
  readonly #slices = new Map<string, { enforced: string; all?: string }>();

  constructor(options: CedarAuthorizerOptions) {
    this.#options = options;
    this.#byId = new Map(options.policies.map((p) => [p.id, p]));
    this.#schemaId = `schema:${options.schema.version}`;
    const parsed = options.cedar.preparseSchema(this.#schemaId, options.schema.json);
    if (parsed.type === 'failure') {
      throw new Error(`the generated policy schema does not parse: ${parsed.errors[0]?.message}`);
    }
    this.policy = {
      mode: options.mode,
      dir: options.dir,
      files: options.files,
      policies: options.policies.length,
      logOnlyPolicies: options.policies.filter((p) => p.mode === 'log_only').length,
      version: options.version,
      ...(options.approvalTimeoutMs !== undefined
        ? { approvalTimeoutMs: options.approvalTimeoutMs }
        : {}),
    };
  }

  async authorize(request: AuthorizationRequest): Promise<Decision> {
    const started = performance.now();
    const action = actionOf(request.origin, request.toolName);
    const info = this.#options.schema.actions.get(action);
    let resources: Resource[];
    try {
      if (!info) throw new Error(`the action ${action} is not in the policy schema`);
      resources = await this.#options.resources.resolve(
        info.resourceKind,
        request.origin,
        request.input,
      );
    } catch (error) {
      return this.#refusal(
        action,
        request,
        `cannot tell what the call touches: ${errorMessage(error)}`,
        started,
      );
    }
    return this.decide(
      { action, resources, input: request.input, rawInput: request.rawInput },
      started,
    );
  }

  /**
   * A decision on a request whose resources are known. Never fails open: if the engine throws
   * (a WebAssembly trap, an instance broken by an earlier one), the call is denied.
   */
  decide(request: DecideRequest, started = performance.now()): Decision {
    try {
      return this.#decide(request, started);
    } catch (error) {
      const agent = request.agent ?? this.#options.agent;
      return this.#finish(
        {
          principal: uidText({ type: 'Agent', id: agent }),
          user: request.user ?? this.#options.user,
          action: request.action,
          resource: request.resources.map((r) => uidText(r.uid)).join(', '),
          inputDigest: digestOf(request.rawInput ?? request.input ?? {}),
          mode: this.#options.mode,
        },
        deny(`the policy engine failed (${errorMessage(error)}); the call is denied`),
        undefined,
        started,
      );
    }
  }

  #decide(request: DecideRequest, started: number): Decision {
    const { action } = request;
    const agent = request.agent ?? this.#options.agent;
    const user = request.user ?? this.#options.user;
    const principal: Uid = { type: 'Agent', id: agent };
    const base = {
      principal: uidText(principal),
      user,
      action,
      resource: request.resources.map((r) => uidText(r.uid)).join(', '),
      inputDigest: digestOf(request.rawInput ?? request.input ?? {}),
      mode: this.#options.mode,
    };
    const info = this.#options.schema.actions.get(action);
    if (!info)
      return this.#finish(
        base,
        deny(`the action ${action} is not in the policy schema`),
        undefined,
        started,
      );
    let context: Record<string, CedarValueJson>;
    try {
      context = { input: inputValue(info.input, request.input) };
    } catch (error) {
      return this.#finish(
        base,
        deny(`the input does not fit the policy schema: ${errorMessage(error)}`),
        undefined,
        started,
      );
    }
    const slice = this.#slice(principal, action);
    // Only the agent: `principal.user == User::"alice"` needs no User entity, and every entity
    // given costs a decision about 30 µs in the engine.
    const people: EntityJson[] = [
      {
        uid: principal,
        attrs: {
          name: agent,
          user: { __entity: { type: 'User', id: user } },
          ...(request.claims ? { claims: claimsValue(request.claims) } : {}),
        },
        parents: [],
      },
    ];
    const run = (setId: string | undefined): Evaluation => {
      const results = request.resources.map((resource) =>
        this.#evaluate(setId, principal, action, resource, context, people),
      );
      const denied = results.filter((r) => r.decision === 'deny');
      const chosen = denied.length ? denied : results;
      return {
        decision: denied.length || results.length === 0 ? 'deny' : 'allow',
        policies: [...new Set(chosen.flatMap((r) => r.policies))],
        errors: [...new Set(results.flatMap((r) => r.errors))],
      };
    };
    if (this.#options.mode === 'log_only') {
      return this.#finish(base, run(slice.all ?? slice.enforced), undefined, started);
    }
    const enforced = run(slice.enforced);
    const all = slice.all ? run(slice.all) : undefined;
    return this.#finish(base, enforced, all, started);
  }

  #finish(
    base: Omit<Decision, 'decision' | 'effect' | 'policies' | 'errors' | 'reason' | 'latencyUs'>,
    evaluation: Evaluation & { reason?: string },
    all: Evaluation | undefined,
    started: number,
  ): Decision {
    const approvals = this.#approvals(evaluation);
    const decision: Verdict = evaluation.errors.length
      ? 'deny'
      : evaluation.decision === 'allow' && approvals.length
        ? 'needs_approval'
        : evaluation.decision;
    const effect: Verdict = this.#options.mode === 'log_only' ? 'allow' : decision;
    const allDecision: Verdict | undefined =
      all &&
      (all.errors.length
        ? 'deny'
        : all.decision === 'allow' && this.#approvals(all).length
          ? 'needs_approval'
          : all.decision);
    return {
      ...base,
      decision,
      effect,
      policies: evaluation.policies,
      ...(decision === 'needs_approval' ? { approvalPolicies: approvals } : {}),
      errors: evaluation.errors,
      reason:
        evaluation.reason ??
        this.#reason(base.action, base.resource, decision, evaluation, approvals),
      ...(all && allDecision !== decision
        ? { logOnly: { decision: allDecision!, policies: all.policies } }
        : {}),
      latencyUs: Math.round((performance.now() - started) * 1000),
    };
  }

  #refusal(
    action: string,
    request: AuthorizationRequest,
    reason: string,
    started: number,
  ): Decision {
    return this.#finish(
      {
        principal: uidText({ type: 'Agent', id: this.#options.agent }),
        user: this.#options.user,
        action,
        resource: '?',
        inputDigest: digestOf(request.rawInput ?? {}),
        mode: this.#options.mode,
      },
      deny(reason),
      undefined,
      started,
    );
  }

  /** The permits that allowed an evaluation and require a person's approval. */
  #approvals(evaluation: Evaluation): string[] {
    if (evaluation.decision !== 'allow') return [];
    return evaluation.policies.filter((id) => this.#byId.get(id)?.approval === 'required');
  }

  #reason(
    action: string,
    resource: string,
    decision: Verdict,
    evaluation: Evaluation,
    approvals: readonly string[],
  ): string {
    if (evaluation.errors.length)
      return `evaluation error (an error denies): ${evaluation.errors[0]}`;
    if (decision === 'allow') return `permitted by ${evaluation.policies.join(', ')}`;
    if (decision === 'needs_approval') {
      return `permitted by ${evaluation.policies.join(', ')}, with a person's approval (required by ${approvals.join(', ')})`;
    }
    if (evaluation.policies.length === 0) {
      return `no policy permits ${action} on ${resource} (default deny)`;
    }
    const reasons = evaluation.policies
      .map((id) => this.#byId.get(id)?.reason)
      .filter((r): r is string => r !== undefined);
    return `forbidden by ${evaluation.policies.join(', ')}${reasons.length ? `: ${reasons.join('; ')}` : ''}`;
  }

  #evaluate(
    setId: string | undefined,
    principal: Uid,
    action: string,
    resource: Resource,
    context: Record<string, CedarValueJson>,
    people: EntityJson[],
  ): Evaluation {
    if (setId === undefined) return { decision: 'deny', policies: [], errors: [] };
    const answer = this.#options.cedar.statefulIsAuthorized({
      principal,
      action: { type: 'Action', id: action },
      resource: resource.uid,
      context,
      entities: [...people, ...resource.entities],
      preparsedPolicySetId: setId,
      preparsedSchemaName: this.#schemaId,
      // The context is built from the schema's own types and entities are checked against
      // it; validating the request again would add ~45 µs and catch nothing more (a value
      // that did not fit would fail evaluation, and a failure denies).
      validateRequest: false,
    });
    if (answer.type === 'failure') {
      return {
        decision: 'deny',
        policies: [],
        errors: answer.errors.map((e) => e.message),
      };
    }
    const { decision, diagnostics } = answer.response;
    return {
      decision,
      policies: diagnostics.reason,
      errors: diagnostics.errors.map((e) => `policy ${e.policyId}: ${e.error.message}`),
    };
  }

  /** How many policies can apply to the authorizer's agent calling `action` (the rest never run). */
  applicableCount(action: string): number {
    const groups = new Set([action]);
    const group = this.#options.schema.actions.get(action)?.group;
    if (group) groups.add(group);
    const principal: Uid = { type: 'Agent', id: this.#options.agent };
    return this.#options.policies.filter(
      (p) => principalMayMatch(p, principal) && actionMayMatch(p, groups),
    ).length;
  }

  /** The policies that can apply to a principal and action, preparsed (undefined: none). */
  #slice(principal: Uid, action: string): { enforced: string | undefined; all?: string } {
    const key = `${principal.id}\u0000${action}`;
    let slice = this.#slices.get(key);
    if (!slice) {
      const groups = new Set([action]);
      const group = this.#options.schema.actions.get(action)?.group;
      if (group) groups.add(group);
      const applicable = this.#options.policies.filter(
        (p) => principalMayMatch(p, principal) && actionMayMatch(p, groups),
      );
      const enforced = applicable.filter((p) => p.mode === 'enforce');
      const prepare = (policies: readonly Policy[], kind: string): string | undefined => {
        if (policies.length === 0) return undefined;
        const id = `${this.#options.version}/${key}/${kind}`;
        const answer = this.#options.cedar.preparsePolicySet(id, {
          staticPolicies: Object.fromEntries(policies.map((p) => [p.id, p.text])),
        });
        if (answer.type === 'failure') {
          throw new Error(`policies for ${action} do not parse: ${answer.errors[0]?.message}`);
        }
        return id;
      };
      const enforcedId = prepare(enforced, 'enforced');
      const allId = enforced.length === applicable.length ? undefined : prepare(applicable, 'all');
      slice = { enforced: enforcedId ?? '', ...(allId ? { all: allId } : {}) };
      this.#slices.set(key, slice);
    }
    return { enforced: slice.enforced || undefined, ...(slice.all ? { all: slice.all } : {}) };
  }
}

function deny(reason: string): Evaluation & { reason: string } {
  return { decision: 'deny', policies: [], errors: [], reason };
}

type EntityRef = { type?: string; id?: string; __entity?: { type: string; id: string } };

function refOf(value: unknown): { type: string; id: string } | undefined {
  const ref = value as EntityRef | undefined;
  if (!ref) return undefined;
  if (ref.__entity) return ref.__entity;
  return ref.type !== undefined && ref.id !== undefined
    ? { type: ref.type, id: ref.id }
    : undefined;
}

/** False only when a policy's principal scope names another principal or type. */
function principalMayMatch(policy: Policy, principal: Uid): boolean {
  const scope = policy.json.principal as { op: string; entity?: unknown; entity_type?: string };
  if (scope.op === '==') {
    const ref = refOf(scope.entity);
    return !ref || (ref.type === principal.type && ref.id === principal.id);
  }
  if (scope.op === 'is') return scope.entity_type === principal.type;
  return true;
}

/** False only when a policy's action scope names other actions (or groups) only. */
function actionMayMatch(policy: Policy, actions: ReadonlySet<string>): boolean {
  const scope = policy.json.action as { op: string; entity?: unknown; entities?: unknown[] };
  if (scope.op === '==') {
    const ref = refOf(scope.entity);
    return !ref || actions.has(ref.id);
  }
  if (scope.op === 'in') {
    const refs = scope.entities ?? [scope.entity];
    return refs.some((r) => {
      const ref = refOf(r);
      return !ref || actions.has(ref.id);
    });
  }
  return true;
}

/** Token claims as a Cedar record (sets for the list-valued claims). */
function claimsValue(claims: TokenClaims): CedarValueJson {
  return {
    sub: claims.sub,
    iss: claims.iss,
    scope: claims.scope,
    ...(claims.email !== undefined ? { email: claims.email } : {}),
    ...(claims.groups !== undefined ? { groups: claims.groups } : {}),
  };
}
