import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../../core/duration.ts';
import { AgentdError } from '../../core/errors.ts';
import { schemaIssue } from '../../definition/yaml-file.ts';
import { customPrompt, type JudgePrompt, type PromptId, prompts } from '../prompts.ts';
import { type EvalLevel, type Evaluator, evalLevels } from '../types.ts';
import { custom, loadCustom } from './custom.ts';
import { environmentEvaluator, environmentKinds } from './environment.ts';
import { countKinds, type OperationalKind, operational, operationalKinds } from './operational.ts';
import { correctness, correctnessModes, goalSuccess, helpfulness } from './session.ts';
import { toolParameters, toolSelection, trajectory, trajectoryModes } from './tool-call.ts';
import { defaultMaxJudgedTurns, faithfulness, instructionFollowing } from './turn.ts';

export const evaluatorKinds = [
  'goal_success',
  'correctness',
  'helpfulness',
  'faithfulness',
  'instruction_following',
  'trajectory',
  'tool_selection',
  'tool_parameters',
  ...operationalKinds,
  ...environmentKinds,
  'custom',
] as const;
export type EvaluatorKind = (typeof evaluatorKinds)[number];

const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, ".", "_" or "-"');
const threshold = z.number().min(0).max(1);
const common = { name: name.optional(), threshold: threshold.optional() };
const judged = { ...common, prompt: z.string().min(1).optional() };
const perTurn = { ...judged, max_turns: z.int().positive().optional() };
const maxNumber = z.number().min(0);
const maxDuration = z.union([z.number().min(0), z.string()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value * 1000 : parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a duration (write e.g. 30s, 2m, or a number of seconds)`,
    });
    return z.NEVER;
  }
  return ms;
});

const optionSchemas = {
  goal_success: z.strictObject(judged),
  correctness: z.strictObject({ ...judged, mode: z.enum(correctnessModes).optional() }),
  helpfulness: z.strictObject(judged),
  faithfulness: z.strictObject(perTurn),
  instruction_following: z.strictObject(perTurn),
  trajectory: z.strictObject({
    ...common,
    mode: z.enum(trajectoryModes).optional(),
    allow_extra: z.boolean().optional(),
  }),
  tool_selection: z.strictObject(judged),
  tool_parameters: z.strictObject(judged),
  turns: z.strictObject({ ...common, max: z.int().min(0) }),
  tokens: z.strictObject({ ...common, max: z.int().min(0) }),
  cost: z.strictObject({ ...common, max: maxNumber }),
  wall_time: z.strictObject({ ...common, max: maxDuration }),
  policy_denials: z.strictObject({ ...common, max: z.int().min(0).optional() }),
  errors: z.strictObject({ ...common, max: z.int().min(0).optional() }),
  episode_success: z.strictObject(common),
  episode_return: z.strictObject(common),
  optimal_steps: z.strictObject(common),
  invalid_actions: z.strictObject({ ...common, max: z.int().min(0).optional() }),
  custom: z.strictObject({
    ...common,
    module: z.string().min(1),
    export: z.string().min(1).optional(),
    level: z.enum(evalLevels).optional(),
  }),
} satisfies Record<EvaluatorKind, z.ZodType>;

/** Thresholds when the suite sets none. */
export const defaultThresholds: Record<EvaluatorKind, number> = {
  goal_success: 1,
  correctness: 1,
  helpfulness: 0.7,
  faithfulness: 0.8,
  instruction_following: 0.8,
  trajectory: 1,
  tool_selection: 1,
  tool_parameters: 1,
  turns: 1,
  tokens: 1,
  cost: 1,
  wall_time: 1,
  policy_denials: 1,
  errors: 1,
  episode_success: 1,
  episode_return: 0.5,
  optimal_steps: 1,
  invalid_actions: 1,
  custom: 0.5,
};

/** Where evaluator settings come from: the file (for errors) and the folder paths are relative to. */
export interface SettingsSource {
  file: string;
  dir: string;
  /** The settings' path in the file, e.g. `evaluators` or `online_eval.evaluators`. */
  field: string;
}

function isKind(value: string): value is EvaluatorKind {
  return (evaluatorKinds as readonly string[]).includes(value);
}

function fail(source: SettingsSource, at: string, message: string): never {
  throw new AgentdError('spec_invalid', `${source.file}: ${at}: ${message}`);
}

/**
 * Builds the evaluators a suite (or the online settings) lists. Each entry is a kind's name
 * (`helpfulness`), a mapping of one kind to its options (`trajectory: { mode: any_order }`), or
 * `custom: ./module.ts#export`. Every mistake is one line naming the entry.
 */
export async function buildEvaluators(
  entries: readonly unknown[],
  source: SettingsSource,
): Promise<Evaluator[]> {
  const evaluators: Evaluator[] = [];
  for (const [index, entry] of entries.entries()) {
    const at = `${source.field}.${index}`;
    let kind: string;
    let raw: unknown;
    if (typeof entry === 'string') {
      kind = entry;
      raw = {};
    } else if (entry && typeof entry === 'object' && !Array.isArray(entry)) {
      const keys = Object.keys(entry);
      if (keys.length !== 1) {
        fail(
          source,
          at,
          `write one evaluator per entry, as a name or "name: { options }" (got ${keys.length ? keys.map((k) => `"${k}"`).join(', ') : 'an empty mapping'})`,
        );
      }
      kind = keys[0]!;
      raw = (entry as Record<string, unknown>)[kind] ?? {};
    } else {
      fail(source, at, 'expected an evaluator name or "name: { options }"');
    }
    if (!isKind(kind)) {
      fail(source, at, `unknown evaluator "${kind}" (known: ${evaluatorKinds.join(', ')})`);
    }
    if (kind === 'custom' && typeof raw === 'string') {
      const hash = raw.lastIndexOf('#');
      raw =
        hash > 0 ? { module: raw.slice(0, hash), export: raw.slice(hash + 1) } : { module: raw };
    }
    const schema = optionSchemas[kind];
    const issue = schemaIssue(schema, raw);
    if (issue) fail(source, `${at}.${kind}`, issue);
    const options = schema.parse(raw) as Record<string, unknown>;
    evaluators.push(await build(kind, options, source, `${at}.${kind}`));
  }
  const seen = new Map<string, number>();
  evaluators.forEach((e, i) => {
    const first = seen.get(e.name);
    if (first !== undefined) {
      fail(
        source,
        `${source.field}.${i}`,
        `a second evaluator named "${e.name}" (the first is ${source.field}.${first}); give one a name: option`,
      );
    }
    seen.set(e.name, i);
  });
  return evaluators;
}

function promptFor(id: PromptId, path: unknown, source: SettingsSource, at: string): JudgePrompt {
  const base: JudgePrompt = prompts[id];
  if (typeof path !== 'string') return base;
  const file = resolve(source.dir, path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    fail(source, `${at}.prompt`, `${file} not found (a prompt template; see docs/evals.md)`);
  }
  return customPrompt(base, text);
}

async function build(
  kind: EvaluatorKind,
  o: Record<string, unknown>,
  source: SettingsSource,
  at: string,
): Promise<Evaluator> {
  const common = {
    name: (o.name as string | undefined) ?? kind,
    threshold: (o.threshold as number | undefined) ?? defaultThresholds[kind],
  };
  switch (kind) {
    case 'goal_success':
      return goalSuccess({ ...common, prompt: promptFor(kind, o.prompt, source, at) });
    case 'correctness':
      return correctness({
        ...common,
        mode: (o.mode as (typeof correctnessModes)[number] | undefined) ?? 'normalized',
        prompt: promptFor(kind, o.prompt, source, at),
      });
    case 'helpfulness':
      return helpfulness({ ...common, prompt: promptFor(kind, o.prompt, source, at) });
    case 'faithfulness':
    case 'instruction_following': {
      const make = kind === 'faithfulness' ? faithfulness : instructionFollowing;
      return make({
        ...common,
        prompt: promptFor(kind, o.prompt, source, at),
        maxTurns: (o.max_turns as number | undefined) ?? defaultMaxJudgedTurns,
      });
    }
    case 'trajectory':
      return trajectory({
        ...common,
        mode: (o.mode as (typeof trajectoryModes)[number] | undefined) ?? 'in_order',
        allowExtra: (o.allow_extra as boolean | undefined) ?? true,
      });
    case 'tool_selection':
      return toolSelection({ ...common, prompt: promptFor(kind, o.prompt, source, at) });
    case 'tool_parameters':
      return toolParameters({ ...common, prompt: promptFor(kind, o.prompt, source, at) });
    case 'custom': {
      const module = resolve(source.dir, o.module as string);
      const definition = await loadCustom(
        module,
        o.export as string | undefined,
        `${source.file}: ${at}`,
      );
      const threshold =
        (o.threshold as number | undefined) ?? definition.threshold ?? defaultThresholds.custom;
      if (!(threshold >= 0 && threshold <= 1)) {
        fail(source, at, `the evaluator's threshold ${threshold} is not from 0 to 1`);
      }
      const evaluatorName =
        (o.name as string | undefined) ??
        definition.name ??
        (definition.exportName === 'default' ? 'custom' : definition.exportName);
      return custom({
        name: evaluatorName,
        level: (o.level as EvalLevel | undefined) ?? definition.level ?? 'custom',
        threshold,
        definition,
      });
    }
    case 'episode_success':
    case 'episode_return':
    case 'optimal_steps':
    case 'invalid_actions':
      return environmentEvaluator({
        ...common,
        kind,
        max: (o.max as number | undefined) ?? 0,
      });
    default: {
      const op = kind as OperationalKind;
      const max = o.max as number | undefined;
      return operational({
        ...common,
        kind: op,
        max: max ?? (countKinds.includes(op) ? 0 : Number.NaN),
      });
    }
  }
}
