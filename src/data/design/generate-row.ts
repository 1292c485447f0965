import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { AgentdError, errorMessage } from '../../core/errors.ts';
import type { Message } from '../../core/messages.ts';
import { parseJudgeJson } from '../../evals/judge.ts';
import { SCRIPTED_PREFIX } from '../../models/scripted-model.ts';
import { shellContainment } from '../../tools/connectors/shell-server.ts';
import {
  type Completion,
  columnSettings,
  complete,
  type DesignModelHandle,
} from './design-models.ts';
import type { Column, Design, LlmColumn } from './design-spec.ts';
import { randomFor, sample } from './samplers.ts';
import type { SeedData } from './seeds.ts';
import { renderTemplate } from './template.ts';

/** What generating one row did. */
export interface RowOutcome {
  index: number;
  /** The row's columns (those not marked `drop`), when it is kept. */
  row?: Record<string, unknown>;
  /** Why the row was left out: `invalid:<column>`, `below_threshold:<column>.<rubric>`, `failed_validation:<column>`. */
  dropped?: string;
  /** Model texts in the row, per model key. */
  calls: Record<string, number>;
  repairs: number;
  tokens: number;
  costUsd: number;
}

/** What rows share: the design, its models, seeds and compiled schemas. */
export interface RowContext {
  design: Design;
  models: ReadonlyMap<string, DesignModelHandle>;
  seeds: ReadonlyMap<string, SeedData>;
  validators: ReadonlyMap<string, ValidateFunction>;
  signal?: AbortSignal;
}

/** Compiles every JSON Schema of the design once (a bad schema is a one-line error). */
export async function compileValidators(design: Design): Promise<Map<string, ValidateFunction>> {
  const { Ajv } = await import('ajv');
  const ajv = new Ajv({ strict: false, allErrors: true });
  const out = new Map<string, ValidateFunction>();
  for (const [i, c] of design.file.columns.entries()) {
    const schema =
      c.type === 'llm-structured' ? c.schema : c.type === 'validation' ? c.json_schema : undefined;
    if (!schema) continue;
    try {
      out.set(c.name, ajv.compile(schema));
    } catch (error) {
      throw new AgentdError(
        'design_invalid',
        `${design.path}: columns[${i}] (${c.name}): not a JSON Schema: ${errorMessage(error)}`,
      );
    }
  }
  return out;
}

function jsonIn(text: string): unknown {
  const found = parseJudgeJson(text);
  if (found !== undefined) return found;
  let body = text.trim();
  if (body.startsWith(SCRIPTED_PREFIX)) body = body.slice(SCRIPTED_PREFIX.length);
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function schemaErrors(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(the value)'} ${e.message}`)
    .join('; ');
}

/** Asks for JSON until `check` accepts it or the repairs run out; undefined when they do. */
async function structured(
  handle: DesignModelHandle,
  column: LlmColumn & { max_repairs?: number },
  system: string,
  prompt: string,
  check: (value: unknown) => string | undefined,
  out: RowOutcome,
  signal?: AbortSignal,
): Promise<unknown> {
  const messages: Message[] = [{ role: 'user', text: prompt }];
  const repairs = column.max_repairs ?? 2;
  for (let attempt = 0; ; attempt++) {
    const answer = await call(handle, column, system, messages, out, signal);
    const value = jsonIn(answer.text);
    const problem = value === undefined ? 'it is not JSON' : check(value);
    if (!problem) return value;
    if (attempt >= repairs) return undefined;
    out.repairs++;
    messages.push(
      { role: 'assistant', text: answer.text, toolCalls: [] },
      {
        role: 'user',
        text: `That answer is not valid: ${problem}. Answer again with the JSON only.`,
      },
    );
  }
}

async function call(
  handle: DesignModelHandle,
  column: LlmColumn,
  system: string,
  messages: readonly Message[],
  out: RowOutcome,
  signal?: AbortSignal,
): Promise<Completion> {
  const answer = await complete(handle, system, messages, columnSettings(handle, column), signal);
  out.tokens += answer.tokens;
  out.costUsd += answer.costUsd;
  out.calls[handle.key] = (out.calls[handle.key] ?? 0) + 1;
  return answer;
}

function codeIn(text: string, language: string): string {
  const fence = new RegExp(
    `\`\`\`(?:${language.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})?[^\\n]*\\n([\\s\\S]*?)\\n?\`\`\``,
    'i',
  );
  const found = fence.exec(text);
  return (found?.[1] ?? text.replace(SCRIPTED_PREFIX, '')).trim();
}

function judgePrompt(column: Extract<Column, { type: 'llm-judge' }>, prompt: string): string {
  const rubrics = column.rubrics
    .map(
      (r) =>
        `${r.name}: ${r.description}\n${Object.entries(r.options)
          .map(([score, meaning]) => `  ${score}: ${meaning}`)
          .join('\n')}`,
    )
    .join('\n\n');
  const shape = column.rubrics
    .map((r) => `"${r.name}": {"score": <score>, "reasoning": "<one or two sentences>"}`)
    .join(', ');
  return `${prompt}\n\nScore it on these rubrics (choose one score from each):\n\n${rubrics}\n\nAnswer with JSON only: {${shape}}`;
}

function judgeProblem(
  column: Extract<Column, { type: 'llm-judge' }>,
  value: unknown,
): string | undefined {
  if (!value || typeof value !== 'object') return 'it is not a JSON object';
  for (const r of column.rubrics) {
    const v = (value as Record<string, unknown>)[r.name] as
      | { score?: unknown; reasoning?: unknown }
      | undefined;
    if (!v || typeof v !== 'object') return `"${r.name}" is missing`;
    if (!Object.keys(r.options).includes(String(v.score))) {
      return `"${r.name}.score" is ${JSON.stringify(v.score)}, not one of ${Object.keys(r.options).join(', ')}`;
    }
    if (typeof v.reasoning !== 'string') return `"${r.name}.reasoning" is not text`;
  }
  return undefined;
}

/** Runs `code` with /bin/sh in the shell connector's sandbox, the value on stdin: exit 0 is valid. */
async function runCheck(
  code: string,
  value: unknown,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const cwd = mkdtempSync(join(tmpdir(), 'agentd-validate-'));
  try {
    const contained = shellContainment({ cwd });
    const argv = [...(contained.wrapper ?? []), '/bin/sh', '-c', code];
    return await new Promise((resolvePromise) => {
      const child = spawn(argv[0]!, argv.slice(1), {
        cwd,
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' },
        stdio: ['pipe', 'ignore', 'pipe'],
        timeout: 30_000,
        ...(signal ? { signal } : {}),
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (t: string) => {
        if (stderr.length < 2000) stderr += t;
      });
      child.on('error', (error) => resolvePromise(`the check did not run: ${errorMessage(error)}`));
      child.on('close', (exit, sig) =>
        resolvePromise(
          exit === 0
            ? undefined
            : `exit ${exit ?? sig}${stderr.trim() ? `: ${stderr.trim().split('\n')[0]}` : ''}`,
        ),
      );
      child.stdin.on('error', () => {});
      child.stdin.end(typeof value === 'string' ? value : JSON.stringify(value));
    });
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

/** Generates row `index`: every column in dependency order; a failed check or judge drops it. */
export async function generateRow(index: number, ctx: RowContext): Promise<RowOutcome> {
  const { design, models, seeds, validators, signal } = ctx;
  const seed = design.file.seed ?? 0;
  const values: Record<string, unknown> = {};
  const out: RowOutcome = { index, calls: {}, repairs: 0, tokens: 0, costUsd: 0 };
  for (const column of design.order) {
    const name = column.name;
    switch (column.type) {
      case 'sampler':
        values[name] = sample(column, randomFor(seed, index, name), values);
        break;
      case 'seed': {
        const data = seeds.get(column.source)!;
        const record = data.records[data.order[index % data.order.length]!]!;
        values[name] = column.field ? (record[column.field] ?? null) : record;
        break;
      }
      case 'expression':
        values[name] = renderTemplate(column.template, values);
        break;
      case 'llm-text':
      case 'llm-code': {
        const handle = models.get(column.model)!;
        const answer = await call(
          handle,
          column,
          renderTemplate(column.system ?? '', values),
          [{ role: 'user', text: renderTemplate(column.prompt, values) }],
          out,
          signal,
        );
        values[name] =
          column.type === 'llm-code' ? codeIn(answer.text, column.language) : answer.text;
        break;
      }
      case 'llm-structured': {
        const validate = validators.get(name)!;
        const prompt = `${renderTemplate(column.prompt, values)}\n\nAnswer with JSON only, valid against this JSON Schema:\n${JSON.stringify(column.schema)}`;
        const value = await structured(
          models.get(column.model)!,
          column,
          renderTemplate(column.system ?? '', values),
          prompt,
          (v) => (validate(v) ? undefined : schemaErrors(validate)),
          out,
          signal,
        );
        if (value === undefined) return { ...out, dropped: `invalid:${name}` };
        values[name] = value;
        break;
      }
      case 'llm-judge': {
        const value = (await structured(
          models.get(column.model)!,
          column,
          renderTemplate(
            column.system ?? 'You are a careful, strict judge of data quality.',
            values,
          ),
          judgePrompt(column, renderTemplate(column.prompt, values)),
          (v) => judgeProblem(column, v),
          out,
          signal,
        )) as Record<string, { score: number | string; reasoning: string }> | undefined;
        if (value === undefined) return { ...out, dropped: `invalid:${name}` };
        const scores: Record<string, { score: number; reasoning: string }> = {};
        for (const r of column.rubrics) {
          scores[r.name] = {
            score: Number(value[r.name]!.score),
            reasoning: value[r.name]!.reasoning,
          };
        }
        values[name] = scores;
        for (const [rubric, min] of Object.entries(column.threshold ?? {})) {
          if (scores[rubric]!.score < min)
            return { ...out, dropped: `below_threshold:${name}.${rubric}` };
        }
        break;
      }
      case 'validation': {
        const target = values[column.target];
        let problem: string | undefined;
        if (column.json_schema) {
          const validate = validators.get(name)!;
          let value = target;
          if (typeof value === 'string') {
            try {
              value = JSON.parse(value);
            } catch {
              // validate the text itself
            }
          }
          problem = validate(value) ? undefined : schemaErrors(validate);
        } else if (column.regex) {
          problem = new RegExp(column.regex, 'u').test(String(target ?? ''))
            ? undefined
            : `does not match ${column.regex}`;
        } else {
          problem = await runCheck(column.code!, target, signal);
        }
        values[name] = problem ? { valid: false, error: problem } : { valid: true };
        if (problem && column.drop_invalid) return { ...out, dropped: `failed_validation:${name}` };
        break;
      }
    }
  }
  const row: Record<string, unknown> = {};
  for (const c of design.file.columns) if (!c.drop) row[c.name] = values[c.name];
  return { ...out, row };
}
