import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { AgentdError, errorMessage } from '../../core/errors.ts';
import { parseYamlFile } from '../../definition/yaml-file.ts';
import { effortLevels } from '../../models/catalog.ts';
import { templateRefs } from './template.ts';

const name = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a column name is letters, digits and _ (not first a digit)');
const regex = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    try {
      new RegExp(value, 'u');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `not a regular expression: ${errorMessage(error)}` });
    }
  });

const modelSettings = {
  /** A name from `models:`. */
  model: z.string().min(1),
  temperature: z.number().min(0).max(2).optional(),
  effort: z.enum(effortLevels).optional(),
  max_tokens: z.int().positive().optional(),
};

const samplerBase = { name, type: z.literal('sampler'), drop: z.boolean().optional() };

const samplerColumn = z.discriminatedUnion('sampler', [
  z.strictObject({
    ...samplerBase,
    sampler: z.literal('category'),
    params: z
      .strictObject({
        values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
        weights: z.array(z.number().nonnegative()).optional(),
      })
      .refine((p) => !p.weights || p.weights.length === p.values.length, {
        message: 'weights: give one weight per value',
      }),
  }),
  z.strictObject({
    ...samplerBase,
    sampler: z.literal('subcategory'),
    params: z.strictObject({
      /** The category column this one depends on. */
      category: name,
      values: z.record(z.string(), z.array(z.union([z.string(), z.number()])).min(1)),
    }),
  }),
  z.strictObject({
    ...samplerBase,
    sampler: z.literal('uniform'),
    params: z
      .strictObject({ low: z.number(), high: z.number(), integer: z.boolean().optional() })
      .refine((p) => p.high > p.low, { message: 'high must be above low' }),
  }),
  z.strictObject({
    ...samplerBase,
    sampler: z.literal('gaussian'),
    params: z.strictObject({
      mean: z.number(),
      stddev: z.number().positive(),
      decimals: z.int().min(0).max(12).optional(),
    }),
  }),
  z.strictObject({
    ...samplerBase,
    sampler: z.literal('bernoulli'),
    params: z.strictObject({ p: z.number().min(0).max(1) }),
  }),
  z.strictObject({
    ...samplerBase,
    sampler: z.literal('poisson'),
    params: z.strictObject({ mean: z.number().positive().max(1000) }),
  }),
  z.strictObject({
    ...samplerBase,
    sampler: z.literal('datetime'),
    params: z
      .strictObject({
        start: z.iso.datetime({ offset: true }).or(z.iso.date()),
        end: z.iso.datetime({ offset: true }).or(z.iso.date()),
        unit: z.enum(['day', 'hour', 'minute', 'second']).optional(),
      })
      .refine((p) => Date.parse(p.end) > Date.parse(p.start), {
        message: 'end must be after start',
      }),
  }),
  z.strictObject({
    ...samplerBase,
    sampler: z.literal('uuid'),
    params: z.strictObject({}).optional(),
  }),
  z.strictObject({
    ...samplerBase,
    sampler: z.literal('person'),
    params: z
      .strictObject({
        locale: z.enum(['en_US', 'en_GB', 'de_DE', 'fr_FR', 'es_ES']).optional(),
        min_age: z.int().min(0).max(120).optional(),
        max_age: z.int().min(0).max(120).optional(),
      })
      .optional(),
  }),
]);

const rubric = z.strictObject({
  name,
  description: z.string().min(1),
  /** Score to what it means, e.g. { 1: "wrong", 2: "partly", 3: "right" }. */
  options: z.record(z.string().regex(/^-?\d+$/, 'scores are whole numbers'), z.string().min(1)),
});

const columnSchema = z.discriminatedUnion('type', [
  samplerColumn,
  z.strictObject({
    name,
    type: z.literal('llm-text'),
    ...modelSettings,
    prompt: z.string().min(1),
    system: z.string().optional(),
    drop: z.boolean().optional(),
  }),
  z.strictObject({
    name,
    type: z.literal('llm-code'),
    ...modelSettings,
    prompt: z.string().min(1),
    system: z.string().optional(),
    language: z.string().min(1),
    drop: z.boolean().optional(),
  }),
  z.strictObject({
    name,
    type: z.literal('llm-structured'),
    ...modelSettings,
    prompt: z.string().min(1),
    system: z.string().optional(),
    /** A JSON Schema the output must satisfy. */
    schema: z.record(z.string(), z.unknown()),
    /** Times the model is asked again with the errors before the row is dropped. */
    max_repairs: z.int().min(0).max(10).optional(),
    drop: z.boolean().optional(),
  }),
  z.strictObject({
    name,
    type: z.literal('llm-judge'),
    ...modelSettings,
    prompt: z.string().min(1),
    system: z.string().optional(),
    rubrics: z.array(rubric).min(1),
    /** Rows scoring under these (per rubric) are dropped. */
    threshold: z.record(z.string(), z.number()).optional(),
    max_repairs: z.int().min(0).max(10).optional(),
    drop: z.boolean().optional(),
  }),
  z.strictObject({
    name,
    type: z.literal('expression'),
    template: z.string(),
    drop: z.boolean().optional(),
  }),
  z.strictObject({
    name,
    type: z.literal('validation'),
    /** The column checked. */
    target: name,
    json_schema: z.record(z.string(), z.unknown()).optional(),
    regex: regex.optional(),
    /** A shell command, run in the shell connector's sandbox with the value on stdin: exit 0 is valid. */
    code: z.string().min(1).optional(),
    /** Drop rows that fail (default: keep them, with the verdict in the column). */
    drop_invalid: z.boolean().optional(),
    drop: z.boolean().optional(),
  }),
  z.strictObject({
    name,
    type: z.literal('seed'),
    /** The seed data's name in `seeds:`. */
    source: z.string().min(1),
    /** The seed record's field (all of it when absent). */
    field: z.string().min(1).optional(),
    drop: z.boolean().optional(),
  }),
]);

const seedSchema = z.union([
  z.strictObject({
    path: z.string().min(1),
    /** `sequential`: row i takes record i (wrapping); `shuffle`: a seeded permutation. */
    order: z.enum(['sequential', 'shuffle']).optional(),
  }),
  z.strictObject({
    runs: z.strictObject({
      agent: z.string().min(1).optional(),
      status: z.enum(['completed', 'failed', 'cancelled', 'budget_exceeded']).optional(),
      limit: z.int().positive().optional(),
    }),
    order: z.enum(['sequential', 'shuffle']).optional(),
  }),
]);

const modelSchema = z.strictObject({
  /** `provider/model-id`. */
  model: z
    .string()
    .regex(/^[a-z-]+\/.+$/, 'write provider/model-id (scripted/<name> with script: for offline)'),
  /** Replies for a scripted model (offline, CI). */
  script: z.string().min(1).optional(),
  base_url: z.url().optional(),
  api_key_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional(),
  temperature: z.number().min(0).max(2).optional(),
  effort: z.enum(effortLevels).optional(),
  max_tokens: z.int().positive().optional(),
});

export const designSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a dataset name is letters, digits, ., _ and -'),
  description: z.string().optional(),
  rows: z.int().positive(),
  /** Samplers draw from this seed: the same design and seed give the same sampled values. */
  seed: z.int().min(0).optional(),
  /** What the data is for: `training` checks every generating model's terms first. */
  use: z.enum(['training', 'evaluation']).optional(),
  concurrency: z.int().positive().max(1024).optional(),
  budget: z
    .strictObject({
      max_tokens: z.int().positive().optional(),
      max_cost_usd: z.number().positive().optional(),
    })
    .optional(),
  models: z.record(name, modelSchema).optional(),
  seeds: z.record(name, seedSchema).optional(),
  columns: z.array(columnSchema).min(1),
});

export type DesignFile = z.output<typeof designSchema>;
export type Column = DesignFile['columns'][number];
export type LlmColumn = Extract<Column, { model: string }>;
export type DesignModel = NonNullable<DesignFile['models']>[string];

/** A parsed design: the file, its columns in an order that respects their references. */
export interface Design {
  path: string;
  dir: string;
  file: DesignFile;
  /** Columns ordered so that each comes after every column it refers to. */
  order: Column[];
  /** SHA-256 of the file's text: a stopped generation resumes only with the same design. */
  text: string;
}

/** The columns a column reads. */
export function referencesOf(column: Column): string[] {
  switch (column.type) {
    case 'sampler':
      return column.sampler === 'subcategory' ? [column.params.category] : [];
    case 'expression':
      return templateRefs(column.template);
    case 'validation':
      return [column.target];
    case 'seed':
      return [];
    default:
      return [...new Set([...templateRefs(column.prompt), ...templateRefs(column.system ?? '')])];
  }
}

/**
 * The columns in dependency order (Kahn's algorithm, keeping the file's order among equals). A
 * reference to no column, or a cycle, is a one-line error naming it.
 */
export function columnOrder(columns: readonly Column[], where: string): Column[] {
  const byName = new Map<string, Column>();
  for (const [i, c] of columns.entries()) {
    if (byName.has(c.name)) {
      throw new AgentdError(
        'design_invalid',
        `${where}: columns[${i}].name: "${c.name}" is the name of an earlier column (names are unique)`,
      );
    }
    byName.set(c.name, c);
  }
  const deps = new Map<string, string[]>();
  for (const [i, c] of columns.entries()) {
    const refs = referencesOf(c).map((r) => r.split('.')[0]!);
    for (const ref of refs) {
      if (!byName.has(ref)) {
        throw new AgentdError(
          'design_invalid',
          `${where}: columns[${i}] (${c.name}) refers to "${ref}", which is not a column (columns: ${[...byName.keys()].join(', ')})`,
        );
      }
    }
    deps.set(c.name, [...new Set(refs)]);
  }
  const order: Column[] = [];
  const done = new Set<string>();
  const visiting: string[] = [];
  const visit = (n: string) => {
    if (done.has(n)) return;
    const at = visiting.indexOf(n);
    if (at !== -1) {
      const cycle = [...visiting.slice(at), n];
      throw new AgentdError(
        'design_invalid',
        `${where}: the columns refer to each other in a cycle: ${cycle.join(' -> ')} (a column can only use columns that do not use it)`,
      );
    }
    visiting.push(n);
    for (const d of deps.get(n) ?? []) visit(d);
    visiting.pop();
    done.add(n);
    order.push(byName.get(n)!);
  };
  for (const c of columns) visit(c.name);
  return order;
}

/** Reads and checks a design file: its schema, its references and the models and seeds it names. */
export function loadDesign(path: string): Design {
  const full = resolve(path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch {
    throw new AgentdError('spec_not_found', `${path}: design file not found`);
  }
  const file = parseYamlFile(path, text, designSchema);
  const order = columnOrder(file.columns, path);
  for (const [i, c] of file.columns.entries()) {
    if ('model' in c && !file.models?.[c.model]) {
      throw new AgentdError(
        'design_invalid',
        `${path}: columns[${i}] (${c.name}).model: "${c.model}" is not in models: (${Object.keys(file.models ?? {}).join(', ') || 'none defined'})`,
      );
    }
    if (c.type === 'seed' && !file.seeds?.[c.source]) {
      throw new AgentdError(
        'design_invalid',
        `${path}: columns[${i}] (${c.name}).source: "${c.source}" is not in seeds: (${Object.keys(file.seeds ?? {}).join(', ') || 'none defined'})`,
      );
    }
    if (c.type === 'validation' && [c.json_schema, c.regex, c.code].filter(Boolean).length !== 1) {
      throw new AgentdError(
        'design_invalid',
        `${path}: columns[${i}] (${c.name}): a validation has exactly one of json_schema, regex or code`,
      );
    }
    if (c.type === 'llm-judge' && c.threshold) {
      for (const key of Object.keys(c.threshold)) {
        if (!c.rubrics.some((r) => r.name === key)) {
          throw new AgentdError(
            'design_invalid',
            `${path}: columns[${i}] (${c.name}).threshold.${key}: not one of its rubrics (${c.rubrics.map((r) => r.name).join(', ')})`,
          );
        }
      }
    }
  }
  for (const [key, m] of Object.entries(file.models ?? {})) {
    if (m.model.startsWith('scripted/') && !m.script) {
      throw new AgentdError(
        'design_invalid',
        `${path}: models.${key}.script: is required for ${m.model} (a file of replies; see docs/data.md)`,
      );
    }
  }
  return { path, dir: dirname(full), file, order, text };
}
