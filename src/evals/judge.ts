import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { AgentdError, errorMessage, isAgentdError } from '../core/errors.ts';
import type { JsonValue } from '../core/messages.ts';
import { addUsage, type Usage, zeroUsage } from '../core/usage.ts';
import type { AgentSpec } from '../definition/agent-spec.ts';
import { parseYamlFile, schemaIssue } from '../definition/yaml-file.ts';
import { costOf, findModel, isProviderName } from '../models/catalog.ts';
import type { Model, ModelRequest, ModelSettings, ModelStreamPart } from '../models/model.ts';
import { resolveModel } from '../models/providers.ts';
import { streamWithRetry } from '../models/retry.ts';
import { SCRIPTED_PREFIX } from '../models/scripted-model.ts';
import { Semaphore } from './pool.ts';
import { type JudgePrompt, promptVersion, renderPrompt } from './prompts.ts';
import type { JudgeUse } from './types.ts';

/** A suite's `judge:` section, paths already resolved. */
export interface JudgeSettings {
  /** `provider/model-id` */
  model: string;
  /** Scripted verdicts: the judge for `scripted/*`, else the offline fallback. */
  script?: string;
  provider?: { baseUrl?: string; api?: 'responses' | 'chat'; apiKeyEnv?: string };
  temperature?: number;
  maxOutputTokens?: number;
  /** Judge calls at once (default 4). */
  concurrency?: number;
}

/** The model that judges runs, with its settings and a limit on calls at once. */
export class Judge {
  readonly model: Model;
  /** `provider/model-id` of the model that judges (scripted/<name> for a scripted judge). */
  readonly ref: string;
  readonly scripted: boolean;
  readonly #settings: ModelSettings;
  readonly #slots: Semaphore;

  constructor(
    model: Model,
    options: { scripted?: boolean; settings?: ModelSettings; concurrency?: number } = {},
  ) {
    this.model = model;
    this.ref = `${model.provider}/${model.id}`;
    this.scripted = options.scripted ?? model.provider === 'scripted';
    this.#settings = { maxOutputTokens: 2048, ...options.settings };
    this.#slots = new Semaphore(options.concurrency ?? 4);
  }

  /** One judge call: the model's whole text answer, its usage and cost. */
  complete(
    system: string,
    prompt: string,
    signal?: AbortSignal,
  ): Promise<{ text: string; usage: Usage; costUsd: number | null }> {
    return this.#slots.run(async () => {
      const request: ModelRequest = {
        instructions: system,
        messages: [{ role: 'user', text: prompt }],
        tools: [],
        settings: this.#settings,
      };
      let text = '';
      let usage: Usage = zeroUsage;
      for await (const part of streamWithRetry(this.model, request, { signal })) {
        if (part.type === 'retry') text = '';
        else if (part.type === 'text-delta') text += part.text;
        else if (part.type === 'finish') usage = part.usage;
      }
      return { text, usage, costUsd: costOf(usage, this.model.entry?.pricing) };
    });
  }
}

/** What asking the judge gave: the parsed verdict, or why there is none. Usage either way. */
export type Verdict<T> =
  | { ok: true; value: T; use: JudgeUse }
  | { ok: false; error: string; use: JudgeUse };

/**
 * Asks the judge one prompt and parses its answer against `schema`. A call that fails or an
 * answer that is not the JSON asked for is returned as an error, never thrown.
 */
export async function askJudge<T>(
  judge: Judge,
  prompt: JudgePrompt,
  vars: Record<string, string>,
  schema: z.ZodType<T>,
  signal?: AbortSignal,
): Promise<Verdict<T>> {
  const use: JudgeUse = {
    model: judge.ref,
    ...(judge.scripted ? { scripted: true } : {}),
    prompt: prompt.id,
    promptVersion: promptVersion(prompt),
    calls: 1,
    usage: zeroUsage,
    costUsd: 0,
  };
  let answer: { text: string; usage: Usage; costUsd: number | null };
  try {
    answer = await judge.complete(prompt.system, renderPrompt(prompt, vars), signal);
  } catch (error) {
    signal?.throwIfAborted();
    return { ok: false, error: `the judge ${judge.ref} failed: ${errorMessage(error)}`, use };
  }
  use.usage = answer.usage;
  use.costUsd = answer.costUsd;
  const parsed = parseJudgeJson(answer.text);
  if (parsed === undefined) {
    return {
      ok: false,
      error: `the judge's answer is not the JSON asked for: ${JSON.stringify(clip(answer.text, 120))}`,
      use,
    };
  }
  const checked = schema.safeParse(parsed);
  if (!checked.success) {
    return {
      ok: false,
      error: `the judge's answer does not fit the format asked for: ${schemaIssue(schema, parsed)}`,
      use,
    };
  }
  return { ok: true, value: checked.data, use };
}

/** Adds up the judge calls behind one score. */
export function mergeUse(a: JudgeUse | undefined, b: JudgeUse): JudgeUse {
  if (!a) return { ...b };
  return {
    ...a,
    calls: a.calls + b.calls,
    usage: addUsage(a.usage, b.usage),
    costUsd: a.costUsd === null || b.costUsd === null ? null : a.costUsd + b.costUsd,
  };
}

/** The JSON object in a judge's answer: the whole text, a fenced block, or the outermost braces. */
export function parseJudgeJson(text: string): unknown {
  let body = text.trim();
  if (body.startsWith(SCRIPTED_PREFIX.trim())) body = body.slice(SCRIPTED_PREFIX.trim().length);
  const fenced = /```(?:json)?\s*\n([\s\S]*?)\n\s*```/.exec(body);
  const candidates = [body, fenced?.[1]];
  const open = body.indexOf('{');
  const close = body.lastIndexOf('}');
  if (open !== -1 && close > open) candidates.push(body.slice(open, close + 1));
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      const value: unknown = JSON.parse(candidate);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value;
    } catch {
      // try the next reading
    }
  }
  return undefined;
}

function shown(path: string): string {
  const cwd = process.cwd();
  return path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
}

function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

// --- the scripted judge ---------------------------------------------------------------------

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

const judgeScriptSchema = z.strictObject({
  description: z.string().optional(),
  verdicts: z
    .array(
      z.strictObject({
        /** Only for prompts of this evaluator kind (`helpfulness`, ...). */
        evaluator: z.string().min(1).optional(),
        /** Only for prompts this regular expression matches. */
        match: z
          .string()
          .min(1)
          .superRefine((value, ctx) => {
            try {
              new RegExp(value);
            } catch (error) {
              ctx.addIssue({
                code: 'custom',
                message: `not a regular expression: ${errorMessage(error)}`,
              });
            }
          })
          .optional(),
        /** The answer, as text (given as is) or as a mapping (given as JSON). */
        reply: z.union([z.string(), z.record(z.string(), jsonValue)]),
      }),
    )
    .min(1),
});

export type JudgeScript = z.output<typeof judgeScriptSchema>;

export function loadJudgeScript(path: string): JudgeScript {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new AgentdError(
      'spec_not_found',
      `${path}: judge script not found (check the suite's judge.script)`,
    );
  }
  return parseYamlFile(path, text, judgeScriptSchema);
}

/**
 * A stand-in for a judge model, for offline suites and tests: answers each prompt with the
 * first verdict whose `evaluator` and `match` fit it. Deterministic, and honest about it: every
 * answer starts with `[scripted]`. A prompt no verdict fits gets an answer that is not JSON, so
 * the score is an error, never a silent pass.
 */
export class ScriptedJudge implements Model {
  readonly provider = 'scripted' as const;
  readonly id: string;
  readonly entry = findModel('scripted', 'judge');
  readonly #verdicts: { evaluator?: string; match?: RegExp; reply: string }[];

  constructor(id: string, script: JudgeScript) {
    this.id = id;
    this.#verdicts = script.verdicts.map((v) => ({
      ...(v.evaluator ? { evaluator: v.evaluator } : {}),
      ...(v.match ? { match: new RegExp(v.match) } : {}),
      reply: typeof v.reply === 'string' ? v.reply : JSON.stringify(v.reply),
    }));
  }

  async *stream(request: ModelRequest): AsyncIterable<ModelStreamPart> {
    const prompt = request.messages.map((m) => (m.role === 'user' ? m.text : '')).join('\n');
    const kind = /^Evaluator: (\S+)/.exec(prompt)?.[1];
    const verdict = this.#verdicts.find(
      (v) => (!v.evaluator || v.evaluator === kind) && (!v.match || v.match.test(prompt)),
    );
    const text =
      SCRIPTED_PREFIX +
      (verdict?.reply ?? `no verdict in the judge script fits this ${kind ?? ''} prompt`);
    yield { type: 'text-delta', text };
    yield {
      type: 'finish',
      stopReason: 'end_turn',
      usage: {
        inputTokens: Math.ceil((request.instructions.length + prompt.length) / 4),
        outputTokens: Math.ceil(text.length / 4),
        cachedInputTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      },
    };
  }
}

/**
 * The judge a suite names, resolved like an agent's model: credentials from the environment
 * or config.yaml; without them, the scripted verdicts when `script` is set (with a notice),
 * else a one-line error. `where` names the file the settings came from.
 */
export async function resolveJudge(
  settings: JudgeSettings,
  where: string,
  config: Config,
): Promise<{ judge: Judge; notices: string[] }> {
  const slash = settings.model.indexOf('/');
  const provider = settings.model.slice(0, slash);
  if (slash <= 0 || slash === settings.model.length - 1 || !isProviderName(provider)) {
    throw new AgentdError(
      'spec_invalid',
      `${where}: judge.model: "${settings.model}" is not provider/model-id (providers: anthropic, openai, openai-compatible, scripted)`,
    );
  }
  const modelId = settings.model.slice(slash + 1);
  const options = {
    settings: {
      ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
      ...(settings.maxOutputTokens ? { maxOutputTokens: settings.maxOutputTokens } : {}),
    },
    ...(settings.concurrency ? { concurrency: settings.concurrency } : {}),
  };
  const scripted = (notices: string[]) => {
    const script = settings.script!;
    const name = basename(script, extname(script));
    return {
      judge: new Judge(new ScriptedJudge(name, loadJudgeScript(script)), {
        ...options,
        scripted: true,
      }),
      notices,
    };
  };
  if (provider === 'scripted') {
    if (!settings.script) {
      throw new AgentdError(
        'spec_invalid',
        `${where}: judge.script: is required for the scripted judge ${settings.model} (a file of verdicts; see docs/evals.md)`,
      );
    }
    return scripted([]);
  }
  const spec: AgentSpec = {
    path: where,
    name: 'judge',
    provider,
    modelId,
    providerOptions: settings.provider ?? {},
    settings: {},
    instructions: '',
    tools: [],
    connectors: {},
    limits: {},
    compaction: {},
  };
  try {
    const resolved = await resolveModel(spec, config);
    return { judge: new Judge(resolved.model, options), notices: resolved.notices };
  } catch (error) {
    if (settings.script && isAgentdError(error) && error.code === 'model_credentials_missing') {
      const missing = /^(\S+ is not set)/.exec(error.message)?.[1] ?? error.message;
      return scripted([
        `${missing}, so the judge replays the scripted verdicts in ${shown(settings.script!)} instead of calling ${settings.model}. Its scores are a script's, not a model's.`,
      ]);
    }
    throw error;
  }
}
