import { dirname, resolve } from 'node:path';
import type { Verdict } from '../core/audit.ts';
import { errorMessage } from '../core/errors.ts';
import type { PolicyDecisionData, RunEvent } from '../core/events.ts';
import type { JsonValue } from '../core/messages.ts';
import type { CedarAuthorizer } from './authorizer.ts';
import type { ToolManifest } from './manifests.ts';
import {
  fileResource,
  hostResource,
  type Resource,
  type ResourceResolver,
  serverResource,
} from './resources.ts';
import type { GeneratedSchema } from './schema.ts';

/** A tool call of a past run, with what the policies in force decided on it then. */
export interface RecordedCall {
  runId: string;
  agent: string;
  callId: string;
  /** The tool as the model named it. */
  tool: string;
  input: JsonValue;
  at: string;
  /** The decision recorded with the call; absent when the run had no policy set. */
  recorded?: PolicyDecisionData;
  /** What was decided: the recorded decision, or `allow` for a run without a policy set. */
  before: Verdict;
  beforeReason: string;
}

/** One decision that the candidate policies would make otherwise. */
export interface ChangedDecision {
  runId: string;
  agent: string;
  callId: string;
  tool: string;
  action: string;
  resource: string;
  at: string;
  before: Verdict;
  after: Verdict;
  beforeReason: string;
  afterReason: string;
  /** The candidate policies that decide it now. */
  policies: string[];
}

/**
 * The tool calls of a run that reached the policy point, in the order they were made: each
 * with its recorded decision (the last one, when a resume decided it again), or, in a run
 * (or a session of it) without a policy set, as allowed. Calls refused before any decision
 * (invalid arguments, an unknown tool) are left out: no policy ever saw them.
 */
export function recordedCalls(events: readonly RunEvent[]): RecordedCall[] {
  const started = events[0];
  if (started?.type !== 'run.started') return [];
  const agent = started.data.agent;
  let policed = (started.data.policy?.mode ?? 'none') !== 'none';
  const calls = new Map<
    string,
    { event: Extract<RunEvent, { type: 'tool.call' }>; policed: boolean }
  >();
  const decisions = new Map<string, PolicyDecisionData>();
  const undecided = new Set<string>();
  for (const event of events) {
    switch (event.type) {
      case 'run.resumed':
        if (event.data.policy) policed = event.data.policy.mode !== 'none';
        break;
      case 'tool.call':
        calls.set(event.data.callId, { event, policed });
        break;
      case 'policy.decision':
        decisions.set(event.data.callId, event.data);
        break;
      case 'tool.result':
        if (
          !decisions.has(event.data.callId) &&
          (event.data.errorKind === 'validation' ||
            event.data.errorKind === 'unknown_tool' ||
            event.data.errorKind === 'in_doubt' ||
            event.data.errorKind === 'cancelled')
        ) {
          undecided.add(event.data.callId);
        }
        break;
      default:
        break;
    }
  }
  const out: RecordedCall[] = [];
  for (const [callId, { event, policed: underPolicy }] of calls) {
    const base = {
      runId: event.runId,
      agent,
      callId,
      tool: event.data.name,
      input: event.data.input,
      at: event.at,
    };
    const recorded = decisions.get(callId);
    if (recorded) {
      out.push({ ...base, recorded, before: recorded.decision, beforeReason: recorded.reason });
    } else if (!underPolicy && !undecided.has(callId)) {
      out.push({ ...base, before: 'allow', beforeReason: 'no policy set: all calls allowed' });
    }
  }
  return out;
}

/** The Cedar action of a tool named as models name them (`fs__read` is `fs.read`). */
export function actionOfToolName(name: string): string {
  if (name === 'registry_search') return 'registry:search';
  const split = name.indexOf('__');
  return split > 0 ? `${name.slice(0, split)}.${name.slice(split + 2)}` : name;
}

/** What replaying needs about an agent: the candidate's authorizer and the agent's tools. */
export interface ReplayContext {
  authorizer: CedarAuthorizer;
  schema: GeneratedSchema;
  manifests: ReadonlyMap<string, ToolManifest>;
  /** Finds a call's resources again when its decision did not record them. */
  resolver: (cwd: string) => Pick<ResourceResolver, 'resolve'>;
  /** The user of calls whose decision is not in the audit log. */
  user: string;
}

/**
 * Decides a recorded call again under the candidate policies, with the resources its
 * decision recorded (the files and hosts it touched then, as resolved then), or, when none
 * were recorded, resolved again now from its input.
 */
export async function replayCall(
  call: RecordedCall,
  context: ReplayContext,
  options: { cwd: string; user?: string },
): Promise<ChangedDecision | undefined> {
  const action = call.recorded?.action ?? actionOfToolName(call.tool);
  const manifest = context.manifests.get(action);
  let resources: Resource[] | undefined;
  let failure: string | undefined;
  try {
    resources = call.recorded
      ? recordedResources(call.recorded.resource, call.input, manifest)
      : undefined;
    if (!resources) {
      const info = context.schema.actions.get(action);
      if (info && manifest) {
        resources = await context
          .resolver(options.cwd)
          .resolve(info.resourceKind, manifest.origin, call.input);
      }
    }
  } catch (error) {
    failure = `cannot tell what the call touches: ${errorMessage(error)}`;
  }
  const decision = failure
    ? undefined
    : context.authorizer.decide({
        action,
        resources: resources ?? [],
        input: call.input,
        agent: call.agent,
        user: options.user ?? context.user,
      });
  const after: Verdict = decision?.decision ?? 'deny';
  if (after === call.before) return undefined;
  return {
    runId: call.runId,
    agent: call.agent,
    callId: call.callId,
    tool: call.tool,
    action,
    resource: call.recorded?.resource ?? decision?.resource ?? '?',
    at: call.at,
    before: call.before,
    after,
    beforeReason: call.beforeReason,
    afterReason:
      decision?.reason ??
      failure ??
      `the action ${action} is not in the schema of ${call.agent}'s tools`,
    policies: decision?.policies ?? [],
  };
}

/**
 * The resources a recorded decision names (`File::"src/a.ts", Dir::"src"`), as entities
 * again; undefined when it names none (`?`: they could not be found then).
 */
export function recordedResources(
  text: string,
  input: JsonValue,
  manifest: ToolManifest | undefined,
): Resource[] | undefined {
  const uids = [...text.matchAll(/([A-Za-z_]+)::("(?:[^"\\]|\\.)*")/g)].map((m) => ({
    type: m[1]!,
    id: JSON.parse(m[2]!) as string,
  }));
  if (uids.length === 0) return undefined;
  return uids.map(({ type, id }): Resource => {
    switch (type) {
      case 'File':
      case 'Dir':
        return fileResource(id, type === 'Dir');
      case 'Host': {
        const url = (input as { url?: unknown } | null)?.url;
        try {
          const resource = hostResource(url);
          if (resource.uid.id === id) return resource;
        } catch {
          // the input's URL is not the one decided: the host alone
        }
        return hostResource(`http://${id}/`);
      }
      case 'Server':
        return manifest && 'server' in manifest.origin && manifest.origin.server === id
          ? serverResource(manifest.origin)
          : serverResource({ kind: 'mcp-stdio', server: id, tool: '' });
      default:
        return {
          uid: { type, id },
          entities: [{ uid: { type, id }, attrs: { name: id }, parents: [] }],
        };
    }
  });
}

/** `7d`, `12h`, `30m` ago, or a date: the ISO time runs must have started after. */
export function sinceTime(value: string, now = Date.now()): string | undefined {
  const match = /^(\d+(?:\.\d+)?)(d|h|m|s)$/.exec(value.trim());
  if (match) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[match[2] as 'd'];
    return new Date(now - Number(match[1]) * unit).toISOString();
  }
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}

/** The folder a run worked in (for resources found again), from its spec's or its own record. */
export function runCwd(started: Extract<RunEvent, { type: 'run.started' }>): string {
  return (
    started.data.cwd ??
    (started.data.specPath ? dirname(resolve(started.data.specPath)) : process.cwd())
  );
}
