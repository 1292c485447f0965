import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { defineTool, runAgent, ScriptedModel, SqliteStore, z } from '../../src/index.ts';
import type { Script } from '../../src/models/scripted-model.ts';
import type { Authorizer, CedarAuthorizer } from '../../src/policy/authorizer.ts';
import { authorizerFor, builtinManifests, checkPolicySet } from '../../src/policy/load.ts';
import { manifestsOf, mergeManifests } from '../../src/policy/manifests.ts';
import { ResourceResolver } from '../../src/policy/resources.ts';
import { originOf } from '../../src/tools/tool-origin.ts';
import { quantile } from '../stats.ts';

/** Decision latency for one policy-set size, in microseconds. */
export interface PolicyLatency {
  policies: number;
  /** Policies that can apply to the request's agent and action (the rest are never evaluated). */
  applicable: number;
  /** `authorize()`: finding the resource (realpath of the file) and the Cedar decision. */
  authorizeP50Us: number;
  authorizeP99Us: number;
  /** The Cedar decision alone, on a resource already found. */
  decideP50Us: number;
  decideP99Us: number;
}

export interface PolicyResults {
  decisions: number;
  /** Policies spread over 100 agents and the fs tools, as a shared set would be. */
  spread: PolicyLatency[];
  /** Every policy names the agent and the action asked about: each one is evaluated. */
  sameAction: PolicyLatency[];
  /** A one-tool step of a scripted run (durable log on) without a policy and with 10 policies. */
  stepMs: { withoutPolicy: number; withPolicy: number };
  /** The decision (authorize, recording it in the audit table and the run log) as a share of the step. */
  policyShareOfStep: number;
}

const sizes = [10, 100, 1000] as const;

/** `count` policies; `spread`: over 100 agents and several actions, else all on one agent and action. */
function policyText(count: number, spread: boolean): string {
  const actions = ['fs.read', 'fs.write', 'fs.list', 'fs.search', 'fs.edit'];
  const lines: string[] = [
    '@id("never-env") forbid (principal, action in Action::"fs", resource is File) when { resource.name == ".env" };',
    '@id("bench-reads") permit (principal == Agent::"bench", action == Action::"fs.read", resource in Dir::"src");',
  ];
  for (let i = 2; i < count; i++) {
    const agent = spread && i % 100 !== 0 ? `agent-${i % 100}` : 'bench';
    const action = spread ? actions[i % actions.length] : 'fs.read';
    lines.push(
      `@id("p${i}") permit (principal == Agent::"${agent}", action == Action::"${action}", resource in Dir::"src") when { resource.path like "src/area-${i}/*" || (resource is File && resource.ext == "ts") };`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function authorizerWith(
  dir: string,
  count: number,
  spread: boolean,
): Promise<CedarAuthorizer> {
  const policies = join(dir, `policies-${spread ? 'spread' : 'same'}-${count}`);
  mkdirSync(policies, { recursive: true });
  writeFileSync(join(policies, 'bench.cedar'), policyText(count, spread));
  const config = loadConfig({ AGENTD_HOME: join(dir, 'home') });
  const checked = await checkPolicySet(policies, await builtinManifests(config, dir));
  const errors = checked.problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new Error(`bench policies invalid: ${errors[0]?.message}`);
  return authorizerFor(checked, {
    mode: 'enforce',
    dir: policies,
    agent: 'bench',
    user: 'bench',
    resources: new ResourceResolver({ connectors: { fs: { roots: [dir] } }, cwd: dir }),
  });
}

async function latency(
  authorizer: CedarAuthorizer,
  count: number,
  decisions: number,
): Promise<PolicyLatency> {
  const origin = { kind: 'connector', server: 'fs', tool: 'read' } as const;
  const request = (i: number) => ({
    origin,
    toolName: 'fs__read',
    input: { path: `src/area-${i % 7}/file.ts`, offset: 0 },
    rawInput: { path: `src/area-${i % 7}/file.ts` },
  });
  for (let i = 0; i < 300; i++) await authorizer.authorize(request(i));
  const authorize: number[] = [];
  for (let i = 0; i < decisions; i++) {
    const started = performance.now();
    const decision = await authorizer.authorize(request(i));
    authorize.push((performance.now() - started) * 1000);
    if (decision.decision !== 'allow')
      throw new Error(`bench: expected allow, got ${decision.reason}`);
  }
  const { fileResource } = await import('../../src/policy/resources.ts');
  const resources = [fileResource('src/area-3/file.ts', false)];
  const decide: number[] = [];
  for (let i = 0; i < decisions; i++) {
    const started = performance.now();
    authorizer.decide({ action: 'fs.read', resources, input: { path: 'src/area-3/file.ts' } });
    decide.push((performance.now() - started) * 1000);
  }
  const applicable = authorizer.applicableCount('fs.read');
  return {
    policies: count,
    applicable,
    authorizeP50Us: quantile(authorize, 0.5),
    authorizeP99Us: quantile(authorize, 0.99),
    decideP50Us: quantile(decide, 0.5),
    decideP99Us: quantile(decide, 0.99),
  };
}

/** Median time of a one-tool step over `steps` steps of a scripted run with a durable log. */
async function stepTime(
  dir: string,
  steps: number,
  policy: Authorizer | undefined,
): Promise<number> {
  const store = new SqliteStore({
    path: join(dir, `steps-${policy ? 'policy' : 'none'}-${Date.now()}.db`),
    durability: 'process',
  });
  const turns: Script['turns'] = [
    { text: 'Next.', tool_calls: [{ name: 'note', input: { text: 'n' } }], repeat: steps - 1 },
    { text: 'Done.' },
  ];
  const model = new ScriptedModel('policy-bench', { turns });
  const stamps: number[] = [];
  try {
    await runAgent({
      store,
      agent: {
        name: 'bench',
        instructions: '',
        model,
        tools: [note],
        limits: { maxTurns: steps + 1 },
        ...(policy ? { policy } : {}),
      },
      task: 'steps',
      onEvent: (event) => {
        if (event.type === 'model.request') stamps.push(performance.now());
      },
    });
  } finally {
    await store.close();
  }
  const gaps = stamps.slice(20).map((t, i) => t - stamps[i + 19]!);
  return quantile(gaps, 0.5);
}

const note = defineTool({
  name: 'note',
  description: 'Notes something.',
  input: z.object({ text: z.string() }),
  execute: ({ text }) => `noted ${text}`,
});

/**
 * The policy issue's benchmark: decision latency (p50, p99) for policy sets of 10, 100 and
 * 1,000 policies, spread over agents and actions as a shared set is, and all on the action
 * asked about (the worst case: every policy is evaluated); and what a decision adds to a tool
 * call: the median step of a scripted one-tool run, without a policy and with one. Reports
 * only; nothing here asserts a time.
 */
export async function runPolicyBench(decisions = 2000, steps = 400): Promise<PolicyResults> {
  const dir = mkdtempSync(join(tmpdir(), 'agentd-policy-bench-'));
  try {
    mkdirSync(join(dir, 'src', 'area-3'), { recursive: true });
    writeFileSync(join(dir, 'src', 'area-3', 'file.ts'), 'export {};\n');
    const spread: PolicyLatency[] = [];
    const sameAction: PolicyLatency[] = [];
    for (const size of sizes) {
      spread.push(await latency(await authorizerWith(dir, size, true), size, decisions));
      sameAction.push(await latency(await authorizerWith(dir, size, false), size, decisions));
    }
    const policyDir = join(dir, 'note-policies');
    mkdirSync(policyDir);
    const lines = [
      '@id("note") permit (principal == Agent::"bench", action == Action::"note", resource);',
    ];
    for (let i = 1; i < 10; i++) {
      lines.push(`@id("other-${i}") permit (principal == Agent::"other-${i}", action, resource);`);
    }
    writeFileSync(join(policyDir, 'bench.cedar'), `${lines.join('\n')}\n`);
    const checked = await checkPolicySet(policyDir, mergeManifests(manifestsOf([note])));
    const policy = authorizerFor(checked, {
      mode: 'enforce',
      dir: policyDir,
      agent: 'bench',
      user: 'bench',
      resources: new ResourceResolver({ connectors: {}, cwd: dir }),
    });
    if (originOf(note).kind !== 'module') throw new Error('bench: note should be in-process');
    await stepTime(dir, steps, undefined); // warm-up
    await stepTime(dir, steps, policy);
    const withoutPolicy = await stepTime(dir, steps, undefined);
    const withPolicy = await stepTime(dir, steps, policy);
    return {
      decisions,
      spread,
      sameAction,
      stepMs: { withoutPolicy, withPolicy },
      policyShareOfStep: Math.max(0, (withPolicy - withoutPolicy) / withPolicy),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const results = await runPolicyBench(Number(process.argv[2] ?? 2000));
  const us = (n: number) => n.toFixed(0).padStart(6);
  const print = (label: string, rows: PolicyLatency[]) => {
    process.stderr.write(
      `${label}\n  policies  applicable  authorize p50/p99 µs   decide p50/p99 µs\n`,
    );
    for (const r of rows) {
      process.stderr.write(
        `  ${String(r.policies).padStart(8)}  ${String(r.applicable).padStart(10)}  ${us(r.authorizeP50Us)} ${us(r.authorizeP99Us)}        ${us(r.decideP50Us)} ${us(r.decideP99Us)}\n`,
      );
    }
  };
  print('spread over 100 agents and 5 actions:', results.spread);
  print('all on the agent and action asked about:', results.sameAction);
  process.stderr.write(
    `one-tool step: ${results.stepMs.withoutPolicy.toFixed(3)} ms without a policy, ${results.stepMs.withPolicy.toFixed(3)} ms with one (decision, audit row and event: ${(results.policyShareOfStep * 100).toFixed(0)}% of the step)\n`,
  );
  process.stdout.write(`${JSON.stringify(results)}\n`);
}
