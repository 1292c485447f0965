import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Config } from '../config/config.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';
import { type AgentSpec, loadAgentSpec } from '../definition/agent-spec.ts';
import type { Store } from '../store/store.ts';
import { authorizerFor, checkPolicySet, runUser, specManifests } from './load.ts';
import { formatProblem, readPolicyDir } from './policy-set.ts';
import { ResourceResolver } from './resources.ts';
import {
  type ChangedDecision,
  type ReplayContext,
  recordedCalls,
  replayCall,
  runCwd,
} from './what-if.ts';

export interface WhatIfSummary {
  /** The candidate policies' folder. */
  policies: string;
  runs: number;
  calls: number;
  changed: number;
  /** How many decisions changed each way (`allow → deny`: 3). */
  byChange: Record<string, number>;
  /** Runs that could not be replayed, by why. */
  skippedRuns?: Record<string, number>;
}

export interface WhatIfReport {
  changes: ChangedDecision[];
  summary: WhatIfSummary;
}

/**
 * Replays the tool calls of the recorded runs (started at or after `since`; only `only`'s when
 * given) against the policies in `folder`, and reports every decision that would change. Each
 * run is replayed with its own spec's tools (or `only`'s); a run whose spec is gone is counted
 * as skipped. Policies that do not fit an agent's schema are a `policy_invalid` error.
 */
export async function whatIfReport(options: {
  store: Store;
  config: Config;
  folder: string;
  /** How the folder is named in errors (the path as the person gave it). */
  shown?: string;
  since?: string;
  only?: AgentSpec;
  /** Where specs' relative tool paths are resolved from. */
  cwd?: string;
}): Promise<WhatIfReport> {
  const { store, config, folder, only } = options;
  const cwd = options.cwd ?? process.cwd();
  const contexts = new Map<string, ReplayContext>();
  const contextFor = async (spec: AgentSpec): Promise<ReplayContext> => {
    const key = resolve(spec.path);
    const known = contexts.get(key);
    if (known) return known;
    const manifests = await specManifests(spec, config, cwd);
    const checked = await checkPolicySet(folder, manifests);
    const errors = checked.problems.filter((p) => p.severity === 'error');
    if (errors.length) {
      throw new AgentdError(
        'policy_invalid',
        `${formatProblem(errors[0]!)}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}: the policies do not fit the schema of ${spec.name} (agentd policy validate ${options.shown ?? folder} --agent ${spec.path} lists every problem)`,
      );
    }
    const specDir = dirname(key);
    const resolver = (dir: string) =>
      new ResourceResolver({ connectors: spec.connectors, cwd: dir, specDir });
    const context: ReplayContext = {
      authorizer: authorizerFor(checked, {
        mode: 'enforce',
        dir: folder,
        agent: spec.name,
        user: runUser(config.env),
        resources: resolver(cwd),
      }),
      schema: checked.schema,
      manifests: new Map(manifests.map((m) => [m.action, m])),
      resolver,
      user: runUser(config.env),
    };
    contexts.set(key, context);
    return context;
  };

  // The folder is checked before any run is read (against the agent's schema when there is one).
  readPolicyDir(folder);
  if (only) await contextFor(only);

  const changes: ChangedDecision[] = [];
  let runsReplayed = 0;
  let callsReplayed = 0;
  const skipped = new Map<string, number>();
  const runs = (await store.listRuns({ limit: Number.MAX_SAFE_INTEGER }))
    .filter(
      (r) => (!options.since || r.createdAt >= options.since) && (!only || r.agent === only.name),
    )
    .reverse();
  for (const run of runs) {
    const events = await store.readEvents(run.id);
    const started = events[0];
    if (started?.type !== 'run.started') continue;
    const calls = recordedCalls(events);
    if (calls.length === 0) continue;
    let spec = only;
    if (!spec) {
      const path = started.data.specPath;
      if (!path || !existsSync(path)) {
        const why = path ? `its spec ${path} is gone` : 'it was not started from a spec file';
        skipped.set(why, (skipped.get(why) ?? 0) + 1);
        continue;
      }
      try {
        spec = loadAgentSpec(path);
      } catch (error) {
        const why = `its spec ${path} does not load (${errorMessage(error)})`;
        skipped.set(why, (skipped.get(why) ?? 0) + 1);
        continue;
      }
    }
    const context = await contextFor(spec);
    const users = new Map(
      (await store.listAudit({ runId: run.id })).map((entry) => [entry.seq, entry.user]),
    );
    runsReplayed++;
    for (const call of calls) {
      callsReplayed++;
      const user = call.recorded ? users.get(call.recorded.auditSeq) : undefined;
      const change = await replayCall(call, context, {
        cwd: runCwd(started),
        ...(user ? { user } : {}),
      });
      if (change) changes.push(change);
    }
  }

  const counts = new Map<string, number>();
  for (const c of changes) {
    const key = `${c.before} → ${c.after}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return {
    changes,
    summary: {
      policies: folder,
      runs: runsReplayed,
      calls: callsReplayed,
      changed: changes.length,
      byChange: Object.fromEntries(counts),
      ...(skipped.size ? { skippedRuns: Object.fromEntries(skipped) } : {}),
    },
  };
}
