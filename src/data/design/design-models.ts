import { isAbsolute, resolve } from 'node:path';
import type { Config } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import type { Message } from '../../core/messages.ts';
import type { Usage } from '../../core/usage.ts';
import type { AgentSpec } from '../../definition/agent-spec.ts';
import { costOf, isProviderName } from '../../models/catalog.ts';
import type { Model, ModelSettings } from '../../models/model.ts';
import { loadProviderTerms } from '../../models/provider-terms.ts';
import { resolveModel } from '../../models/providers.ts';
import { streamWithRetry } from '../../models/retry.ts';
import { type ModelTerms, termsFor } from '../../models/terms.ts';
import type { Design, DesignModel, LlmColumn } from './design-spec.ts';
import { ScriptedGenerator } from './scripted-generator.ts';

/** A design's model, ready to call. */
export interface DesignModelHandle {
  key: string;
  /** `provider/model-id` */
  ref: string;
  model: Model;
  settings: ModelSettings;
  terms: ModelTerms;
}

/** One model answer, with what it cost. */
export interface Completion {
  text: string;
  tokens: number;
  costUsd: number;
}

/**
 * The terms of every model the design's columns use, checked against its intended use before
 * anything is called: for training data, a model whose terms forbid training on its outputs, or
 * whose terms nobody has stated, stops the design here (config.yaml `model_terms` records a
 * team's own contract).
 */
export function checkDesignTerms(
  design: Design,
  config: Pick<Config, 'modelTerms' | 'configPath' | 'home'>,
): Map<string, ModelTerms> {
  const used = new Map<string, string[]>();
  for (const c of design.file.columns) {
    if ('model' in c) used.set(c.model, [...(used.get(c.model) ?? []), c.name]);
  }
  const terms = new Map<string, ModelTerms>();
  const fromProvider = loadProviderTerms(config.home);
  for (const [key, columns] of used) {
    const ref = design.file.models![key]!.model;
    const t = termsFor(ref, { config, fromProvider });
    terms.set(key, t);
    if ((design.file.use ?? 'training') !== 'training') continue;
    if (t.distillable === 'no') {
      throw new AgentdError(
        'dataset_terms_refused',
        `${design.path}: models.${key} (${ref}, used by ${columns.join(', ')}): its terms forbid training on its outputs (${t.note}); nothing was called. Use another model, or set use: evaluation if the data is not for training`,
      );
    }
    if (t.distillable === 'unknown') {
      throw new AgentdError(
        'dataset_terms_refused',
        `${design.path}: models.${key} (${ref}, used by ${columns.join(', ')}): nobody has said whether its outputs may train models; nothing was called. Record its terms under model_terms in ${config.configPath} (distillable, source, as_of)`,
      );
    }
  }
  return terms;
}

function settingsOf(m: DesignModel): ModelSettings {
  return {
    ...(m.temperature !== undefined ? { temperature: m.temperature } : {}),
    ...(m.effort ? { effort: m.effort } : {}),
    ...(m.max_tokens ? { maxOutputTokens: m.max_tokens } : {}),
  };
}

/** The design's models, resolved like an agent's (credentials from the environment or config.yaml). */
export async function resolveDesignModels(
  design: Design,
  config: Config,
  terms: ReadonlyMap<string, ModelTerms>,
): Promise<{ models: Map<string, DesignModelHandle>; secrets: string[] }> {
  const models = new Map<string, DesignModelHandle>();
  const secrets: string[] = [];
  for (const [key, m] of Object.entries(design.file.models ?? {})) {
    if (!terms.has(key)) continue;
    const slash = m.model.indexOf('/');
    const provider = m.model.slice(0, slash);
    const id = m.model.slice(slash + 1);
    if (!isProviderName(provider)) {
      throw new AgentdError(
        'design_invalid',
        `${design.path}: models.${key}.model: "${m.model}" has no known provider (anthropic, openai, openai-compatible, scripted)`,
      );
    }
    let model: Model;
    if (provider === 'scripted') {
      const script = isAbsolute(m.script!) ? m.script! : resolve(design.dir, m.script!);
      model = new ScriptedGenerator(id, script);
    } else {
      const spec: AgentSpec = {
        path: design.path,
        name: key,
        provider,
        modelId: id,
        providerOptions: {
          ...(m.base_url ? { baseUrl: m.base_url } : {}),
          ...(m.api_key_env ? { apiKeyEnv: m.api_key_env } : {}),
        },
        settings: {},
        instructions: '',
        tools: [],
        connectors: {},
        limits: {},
        compaction: {},
      };
      const resolved = await resolveModel(spec, config);
      model = resolved.model;
      secrets.push(...resolved.secrets);
    }
    models.set(key, { key, ref: m.model, model, settings: settingsOf(m), terms: terms.get(key)! });
  }
  return { models, secrets };
}

/** The settings a column asks for over its model's. */
export function columnSettings(handle: DesignModelHandle, column: LlmColumn): ModelSettings {
  return {
    ...handle.settings,
    ...(column.temperature !== undefined ? { temperature: column.temperature } : {}),
    ...(column.effort ? { effort: column.effort } : {}),
    ...(column.max_tokens ? { maxOutputTokens: column.max_tokens } : {}),
  };
}

/** One call, retried like a run's (429, 5xx); its text, tokens and cost. */
export async function complete(
  handle: DesignModelHandle,
  system: string,
  messages: readonly Message[],
  settings: ModelSettings,
  signal?: AbortSignal,
): Promise<Completion> {
  let text = '';
  let usage: Usage | undefined;
  for await (const part of streamWithRetry(
    handle.model,
    { instructions: system, messages, tools: [], settings },
    signal ? { signal } : {},
  )) {
    if (part.type === 'retry') text = '';
    else if (part.type === 'text-delta') text += part.text;
    else if (part.type === 'finish') usage = part.usage;
  }
  const tokens = usage ? usage.inputTokens + usage.outputTokens : 0;
  const costUsd = usage ? (costOf(usage, handle.model.entry?.pricing) ?? 0) : 0;
  return { text, tokens, costUsd };
}
