import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type { Limits } from '../core/events.ts';
import { resolveAgentRef } from '../definition/agent-catalog.ts';
import { parseYamlFile } from '../definition/yaml-file.ts';
import { budgetLimits, budgetSchema, loadDataset } from './dataset.ts';
import { buildEvaluators } from './evaluators/index.ts';
import type { JudgeSettings } from './judge.ts';
import type { EvalCase, Evaluator } from './types.ts';

const modelRef = z
  .string()
  .regex(/^[a-z-]+\/.+$/, 'write provider/model-id, e.g. anthropic/claude-haiku-4-5');

/** A judge model: what suites and the online settings write. */
export const judgeSchema = z.strictObject({
  model: modelRef,
  script: z.string().min(1).optional(),
  provider: z
    .strictObject({
      base_url: z.url().optional(),
      api: z.enum(['responses', 'chat']).optional(),
      api_key_env: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
        .optional(),
    })
    .optional(),
  temperature: z.number().min(0).max(2).optional(),
  max_output_tokens: z.int().positive().optional(),
  concurrency: z.int().positive().max(64).optional(),
});

export function judgeSettings(raw: z.output<typeof judgeSchema>, dir: string): JudgeSettings {
  const settings: JudgeSettings = { model: raw.model };
  if (raw.script) settings.script = resolve(dir, raw.script);
  if (raw.provider) {
    settings.provider = {
      ...(raw.provider.base_url ? { baseUrl: raw.provider.base_url } : {}),
      ...(raw.provider.api ? { api: raw.provider.api } : {}),
      ...(raw.provider.api_key_env ? { apiKeyEnv: raw.provider.api_key_env } : {}),
    };
  }
  if (raw.temperature !== undefined) settings.temperature = raw.temperature;
  if (raw.max_output_tokens) settings.maxOutputTokens = raw.max_output_tokens;
  if (raw.concurrency) settings.concurrency = raw.concurrency;
  return settings;
}

const suiteSchema = z.strictObject({
  name: z.string().min(1).optional(),
  description: z.string().optional(),
  /** The agent cases run through: a spec path (relative to the suite) or an agent's name. */
  agent: z.string().min(1).optional(),
  /** Agents cases may pick by name with their "agent" field. */
  agents: z.record(z.string().min(1), z.string().min(1)).optional(),
  dataset: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** The folder agents work in (relative to the suite; default: where agentd runs). */
  cwd: z.string().min(1).optional(),
  concurrency: z.int().positive().max(256).optional(),
  trials: z.int().positive().max(100).optional(),
  budget: budgetSchema.optional(),
  judge: judgeSchema.optional(),
  evaluators: z.array(z.unknown()).min(1),
  fail_under: z.number().min(0).max(1).optional(),
});

export interface Suite {
  /** Absolute path of the suite file, and how to show it. */
  path: string;
  shownAs: string;
  dir: string;
  name: string;
  description?: string;
  cases: EvalCase[];
  /** For each case id, the spec file its agent is. */
  specs: Map<string, string>;
  evaluators: Evaluator[];
  judge?: JudgeSettings;
  cwd: string;
  concurrency: number;
  trials: number;
  budget: Partial<Limits>;
  failUnder?: number;
}

/**
 * Loads a suite file: its datasets, evaluators (custom modules imported), agents (each case's
 * resolved to a spec file) and settings. Every mistake is one line naming the file and field.
 */
export async function loadSuite(
  path: string,
  config: Config,
  options: { agents?: boolean } = {},
): Promise<Suite> {
  const shownAs = path;
  const full = resolve(path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch {
    throw new AgentdError('spec_not_found', `${shownAs}: suite file not found`);
  }
  const raw = parseYamlFile(shownAs, text, suiteSchema);
  const dir = dirname(full);
  const files = typeof raw.dataset === 'string' ? [raw.dataset] : raw.dataset;
  const cases: EvalCase[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    const datasetPath = resolve(dir, file);
    const shown = relativeToCwd(datasetPath);
    if (!existsSync(datasetPath)) {
      throw new AgentdError(
        'spec_not_found',
        `${shownAs}: dataset: ${shown} not found (paths are relative to the suite file)`,
      );
    }
    for (const c of loadDataset(datasetPath, shown)) {
      const first = seen.get(c.id);
      if (first) {
        throw new AgentdError(
          'spec_invalid',
          `${c.origin}: id "${c.id}" is already the id of a case at ${first}`,
        );
      }
      seen.set(c.id, c.origin ?? shown);
      cases.push(c);
    }
  }
  const evaluators = await buildEvaluators(raw.evaluators, {
    file: shownAs,
    dir,
    field: 'evaluators',
  });
  const judge = raw.judge ? judgeSettings(raw.judge, dir) : undefined;
  if (!judge) {
    const needs = evaluators.find((e) => e.judge === 'always');
    if (needs) {
      throw new AgentdError(
        'spec_invalid',
        `${shownAs}: evaluators: ${needs.name} needs a judge model: add judge: { model: provider/model-id } (or a scripted judge; see docs/evals.md)`,
      );
    }
  }
  const specs = new Map<string, string>();
  const resolved = new Map<string, string>();
  // Scoring recorded runs needs no agents.
  for (const c of options.agents === false ? [] : cases) {
    const ref = c.agent ?? raw.agent;
    if (!ref) {
      throw new AgentdError(
        'spec_invalid',
        `${c.origin}: no agent for case "${c.id}": set agent: in ${shownAs} or "agent" in the case`,
      );
    }
    let spec = resolved.get(ref);
    if (!spec) {
      spec = agentSpecPath(
        ref,
        raw.agents ?? {},
        dir,
        config,
        c.agent ? c.origin! : `${shownAs}: agent`,
      );
      resolved.set(ref, spec);
    }
    specs.set(c.id, spec);
  }
  const suite: Suite = {
    path: full,
    shownAs,
    dir,
    name: raw.name ?? basename(full, extname(full)),
    cases,
    specs,
    evaluators,
    cwd: raw.cwd ? resolve(dir, raw.cwd) : process.cwd(),
    concurrency: raw.concurrency ?? 4,
    trials: raw.trials ?? 1,
    budget: budgetLimits(raw.budget),
  };
  if (raw.description) suite.description = raw.description;
  if (judge) suite.judge = judge;
  if (raw.fail_under !== undefined) suite.failUnder = raw.fail_under;
  if (raw.cwd && !existsSync(suite.cwd)) {
    throw new AgentdError('spec_invalid', `${shownAs}: cwd: ${suite.cwd} does not exist`);
  }
  return suite;
}

/**
 * The spec file an agent reference names: a name in the suite's `agents`, a spec path
 * (relative to the suite), or an agent of this machine by name.
 */
function agentSpecPath(
  ref: string,
  agents: Record<string, string>,
  dir: string,
  config: Config,
  where: string,
): string {
  const target = agents[ref] ?? ref;
  const candidate = isAbsolute(target) ? target : resolve(dir, target);
  if (existsSync(candidate)) return candidate;
  if (/[/\\]/.test(target) || /\.ya?ml$/.test(target)) {
    throw new AgentdError(
      'spec_not_found',
      `${where}: agent "${ref}": ${relativeToCwd(candidate)} not found (spec paths are relative to the suite file)`,
    );
  }
  try {
    return resolve(resolveAgentRef(target, config));
  } catch (error) {
    throw new AgentdError(
      'spec_not_found',
      `${where}: agent "${ref}": ${errorMessage(error)}${Object.keys(agents).length ? ` (the suite's agents: ${Object.keys(agents).join(', ')})` : ''}`,
    );
  }
}

/** Only the cases with one of `tags` (all when none), or with one of `ids`. */
export function selectCases(
  suite: Suite,
  filter: { tags?: readonly string[]; ids?: readonly string[] },
): EvalCase[] {
  return suite.cases.filter(
    (c) =>
      (!filter.tags?.length || c.tags.some((t) => filter.tags!.includes(t))) &&
      (!filter.ids?.length || filter.ids.includes(c.id)),
  );
}

export function relativeToCwd(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
