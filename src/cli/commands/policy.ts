import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Config, loadConfig } from '../../config/config.ts';
import type { Verdict } from '../../core/audit.ts';
import { AgentdError } from '../../core/errors.ts';
import { loadAgentSpec } from '../../definition/agent-spec.ts';
import { parseYamlFile } from '../../definition/yaml-file.ts';
import { isProviderName } from '../../models/catalog.ts';
import { resolveModel } from '../../models/providers.ts';
import { casesSchema, decideCases } from '../../policy/cases.ts';
import { loadCedar } from '../../policy/cedar.ts';
import { draftPolicies } from '../../policy/draft.ts';
import {
  authorizerFor,
  checkPolicySet,
  policySourceOf,
  runUser,
  specManifests,
} from '../../policy/load.ts';
import { formatProblem, type PolicyMode } from '../../policy/policy-set.ts';
import { activatePolicySet, savePolicySet } from '../../policy/policy-sets.ts';
import { ResourceResolver } from '../../policy/resources.ts';
import { generateSchema } from '../../policy/schema.ts';
import { sinceTime } from '../../policy/what-if.ts';
import { type WhatIfReport, whatIfReport } from '../../policy/what-if-report.ts';
import { openStore } from '../../store/open-store.ts';
import type { Store } from '../../store/store.ts';
import { clip, paint, printNotice } from '../format.ts';

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
  const outcomes = decideCases(cases, {
    authorizer,
    schema: checked.schema,
    where: file,
    agent: spec.name,
  });
  let failed = 0;
  for (const { name, expect, decision, passed } of outcomes) {
    if (passed) {
      process.stdout.write(
        `${paint('green', '✓')} ${name}: ${decision.decision} (${decision.reason})\n`,
      );
    } else {
      failed++;
      process.stdout.write(
        `${paint('red', '✗')} ${name}: expected ${expect}, got ${decision.decision} (${decision.reason})\n`,
      );
    }
  }
  const passed = cases.cases.length - failed;
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed ? 1 : 0;
}

/**
 * `agentd policy what-if <dir> [--since ...] [--agent <spec>]`: replays the tool calls of past
 * runs against the policies in `dir` and reports every decision that would change. Exit 0
 * whatever changes (it is a report); 2 when the policies are invalid for an agent's schema.
 */
export async function policyWhatIfCommand(
  dir: string,
  options: { since?: string; agent?: string; json?: boolean },
): Promise<number> {
  const folder = resolve(dir);
  let since: string | undefined;
  if (options.since !== undefined) {
    since = sinceTime(options.since);
    if (!since) {
      throw new AgentdError(
        'usage',
        `--since: "${options.since}" is not a date or an age (write e.g. 7d, 12h, 30m or 2026-11-01)`,
      );
    }
  }
  const config = loadConfig();
  const only = options.agent ? loadAgentSpec(options.agent) : undefined;
  const store = openStore(config);
  let report: WhatIfReport;
  try {
    report = await whatIfReport({
      store,
      config,
      folder,
      shown: dir,
      ...(since ? { since } : {}),
      ...(only ? { only } : {}),
    });
  } finally {
    await store.close();
  }
  const { changes, summary } = report;
  const callsReplayed = summary.calls;
  const runsReplayed = summary.runs;
  const breakdown = Object.entries(summary.byChange)
    .map(([key, n]) => `${n} ${key}`)
    .join(', ');
  if (options.json) {
    for (const change of changes) process.stdout.write(`${JSON.stringify(change)}\n`);
    process.stdout.write(`${JSON.stringify({ summary })}\n`);
    return 0;
  }
  for (const c of changes) {
    process.stdout.write(
      `${c.runId} ${c.at.replace('T', ' ').slice(0, 19)} ${c.agent} ${c.action} on ${clip(c.resource, 50)}: ${paint(verdictStyle(c.after), `${c.before} → ${c.after}`)} ${paint('dim', `(${clip(c.afterReason, 120)}) [${c.callId}]`)}\n`,
    );
  }
  for (const [why, n] of Object.entries(summary.skippedRuns ?? {})) {
    process.stderr.write(
      `${paint('yellow', 'note:')} ${n} run${n === 1 ? '' : 's'} not replayed: ${why} (give --agent <spec> to replay with it)\n`,
    );
  }
  process.stdout.write(
    `replayed ${callsReplayed} call${callsReplayed === 1 ? '' : 's'} of ${runsReplayed} run${runsReplayed === 1 ? '' : 's'} against ${dir}: ${changes.length === 0 ? 'no decision would change' : `${changes.length} decision${changes.length === 1 ? '' : 's'} would change (${breakdown})`}\n`,
  );
  return 0;
}

function verdictStyle(verdict: Verdict): 'red' | 'green' | 'yellow' {
  return verdict === 'deny' ? 'red' : verdict === 'allow' ? 'green' : 'yellow';
}

/**
 * `agentd policy draft "<requirement>" --agent <spec>`: the agent's model (or --model) writes
 * Cedar for the requirement, agentd checks it against the agent's schema (handing problems
 * back for up to two repairs) and prints it for review. `--save` writes it to a new file;
 * nothing is ever activated by drafting.
 */
export async function policyDraftCommand(
  requirement: string,
  options: { agent?: string; model?: string; save?: string },
): Promise<number> {
  if (!requirement.trim()) {
    throw new AgentdError(
      'usage',
      'agentd policy draft: the requirement is empty: say what the policies should allow or forbid, e.g. "may read under src/, never .env"',
    );
  }
  if (options.save && existsSync(options.save)) {
    throw new AgentdError(
      'usage',
      `--save: ${options.save} already exists; give a new file name (a draft never overwrites policies)`,
    );
  }
  const { spec, config, manifests } = await schemaFor(options.agent, 'draft');
  if (options.model) {
    const slash = options.model.indexOf('/');
    const provider = options.model.slice(0, slash);
    if (slash <= 0 || slash === options.model.length - 1 || !isProviderName(provider)) {
      throw new AgentdError(
        'usage',
        `--model: "${options.model}" is not provider/model-id (providers: anthropic, openai, openai-compatible, scripted)`,
      );
    }
    spec.provider = provider;
    spec.modelId = options.model.slice(slash + 1);
  }
  if (spec.provider === 'scripted' && !spec.script) {
    throw new AgentdError(
      'usage',
      `--model ${spec.provider}/${spec.modelId}: a scripted model replays the spec's script:, and ${spec.path} has none`,
    );
  }
  const resolved = await resolveModel(spec, config);
  if (resolved.scripted && spec.provider !== 'scripted') {
    throw new AgentdError(
      'model_credentials_missing',
      `agentd policy draft needs ${spec.provider}/${spec.modelId}, and its credentials are not set (the agent's script cannot write policies): set them, or pass --model`,
    );
  }
  for (const notice of resolved.notices) printNotice(notice);
  const cedar = await loadCedar();
  const schema = generateSchema(manifests);
  const schemaText = cedar.schemaToText(schema.json);
  if (schemaText.type === 'failure') {
    throw new Error(`the schema does not print: ${schemaText.errors[0]?.message}`);
  }
  process.stderr.write(
    paint(
      'dim',
      `drafting with ${resolved.model.provider}/${resolved.model.id}${resolved.scripted ? ' (scripted replay)' : ''} against the schema of ${spec.name} (${schema.actions.size} actions)…\n`,
    ),
  );
  const result = await draftPolicies({
    model: resolved.model,
    cedar,
    schema,
    schemaText: schemaText.text.replaceAll('__cedar::', ''),
    agent: spec.name,
    requirement: requirement.trim(),
  });
  process.stdout.write(result.text);
  const repairs = result.attempts.length - 1;
  const repaired = repairs ? `, after ${repairs} repair${repairs === 1 ? '' : 's'}` : '';
  for (const problem of result.problems) process.stderr.write(`${formatProblem(problem)}\n`);
  const errors = result.problems.filter((p) => p.severity === 'error').length;
  if (errors) {
    process.stderr.write(
      `${paint('red', 'invalid:')} the draft still has ${errors} error${errors === 1 ? '' : 's'}${repaired}; nothing was saved (rephrase the requirement, or fix the draft by hand and run agentd policy validate)\n`,
    );
    return 1;
  }
  const count = result.policies;
  if (options.save) {
    writeFileSync(options.save, result.text, { flag: 'wx' });
  }
  process.stderr.write(
    `${paint('green', 'valid:')} ${count} polic${count === 1 ? 'y' : 'ies'}, checked against the schema of ${spec.name}${repaired}. ${
      options.save
        ? `Saved to ${options.save}: it applies to runs only from a policy folder an agent uses.`
        : 'Review them: nothing was saved or activated (--save <file.cedar> writes them).'
    }\n`,
  );
  return 0;
}

async function withPolicyStore<T>(fn: (store: Store, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = openStore(config);
  try {
    return await fn(store, config);
  } finally {
    await store.close();
  }
}

async function agentManifests(agent: string | undefined, config: Config) {
  return agent ? specManifests(loadAgentSpec(agent), config, process.cwd()) : [];
}

/** `agentd policy save <dir> --as <name> [--activate]`. */
export async function policySaveCommand(
  dir: string,
  options: { as: string; activate?: boolean; agent?: string },
): Promise<number> {
  return withPolicyStore(async (store, config) => {
    const saved = await savePolicySet(store, options.as, resolve(dir));
    process.stdout.write(
      `saved ${saved.name}@${saved.version} (${saved.files.length} file${saved.files.length === 1 ? '' : 's'})\n`,
    );
    if (!options.activate) {
      process.stderr.write(
        paint('dim', `not active: agentd policy activate ${saved.name}@${saved.version}\n`),
      );
      return 0;
    }
    await activatePolicySet(
      store,
      config,
      saved.name,
      saved.version,
      await agentManifests(options.agent, config),
    );
    process.stdout.write(`active: ${saved.name}@${saved.version}\n`);
    return 0;
  });
}

/** `agentd policy activate <name[@version]>`. */
export async function policyActivateCommand(
  ref: string,
  options: { agent?: string },
): Promise<number> {
  const match = /^([a-z0-9][a-z0-9_-]*)(?:@(\d+))?$/.exec(ref);
  if (!match) {
    throw new AgentdError('usage', `"${ref}" is not <name> or <name>@<version>`);
  }
  return withPolicyStore(async (store, config) => {
    const active = await activatePolicySet(
      store,
      config,
      match[1]!,
      match[2] ? Number(match[2]) : undefined,
      await agentManifests(options.agent, config),
    );
    process.stdout.write(
      `active: ${active.name}@${active.version} (specs with policy: { set: ${active.name} } use it from their next run)\n`,
    );
    return 0;
  });
}

/** `agentd policy sets`. */
export async function policySetsCommand(options: { json?: boolean }): Promise<number> {
  return withPolicyStore(async (store) => {
    const sets = await store.listPolicySets();
    if (options.json) {
      for (const set of sets) process.stdout.write(`${JSON.stringify(set)}\n`);
      return 0;
    }
    if (sets.length === 0) {
      process.stdout.write('no policy sets saved (agentd policy save <dir> --as <name>)\n');
      return 0;
    }
    for (const set of sets) {
      process.stdout.write(
        `${set.active ? paint('green', '●', process.stdout) : ' '} ${set.name}@${set.version}  ${set.createdAt.slice(0, 19).replace('T', ' ')}  ${set.files.map((f) => f.name).join(', ')}\n`,
      );
    }
    return 0;
  });
}
