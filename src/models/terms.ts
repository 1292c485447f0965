import type { Config } from '../config/config.ts';
import { type CatalogEntry, findModel, isProviderName } from './catalog.ts';

/** Whether a model's outputs may be used to train other models. */
export type Distillable = 'yes' | 'no' | 'unknown';

/** Where a model's terms came from: the catalog, a team's config.yaml, or the provider's API. */
export type TermsOrigin = 'catalog' | 'config' | 'provider' | 'none';

/** A model's terms for training on its outputs, with the source of that fact and its date. */
export interface ModelTerms {
  /** `provider/model-id` */
  model: string;
  distillable: Distillable;
  /** One line: what the terms say. */
  note: string;
  /** Where the fact comes from (URLs, a contract's name). */
  source: string;
  /** When the fact was checked (YYYY-MM-DD). */
  asOf: string;
  origin: TermsOrigin;
}

/** The date the catalog's terms were researched (src/models/catalog-data.ts). */
export const CATALOG_TERMS_AS_OF = '2026-11-22';

/** A `model_terms` entry of config.yaml: a team's own contract overrides the catalog. */
export interface TermsOverride {
  distillable: Distillable;
  source: string;
  as_of: string;
  note?: string;
}

/** The catalog's three levels as yes/no: only `allowed` lets outputs train other models. */
export function distillableOf(entry: Pick<CatalogEntry, 'distillation'>): Distillable {
  return entry.distillation === 'allowed' ? 'yes' : 'no';
}

/**
 * A `model_terms` key matches `provider/model-id` exactly, or with `*` standing for any text
 * (`openai-compatible/*`, `scripted/*`). The most specific match (fewest `*`, longest) wins.
 */
function matchOverride(
  model: string,
  overrides: Readonly<Record<string, TermsOverride>> | undefined,
): TermsOverride | undefined {
  if (!overrides) return undefined;
  if (overrides[model]) return overrides[model];
  let best: { key: string; terms: TermsOverride } | undefined;
  for (const [key, terms] of Object.entries(overrides)) {
    if (!key.includes('*')) continue;
    const pattern = new RegExp(
      `^${key
        .split('*')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    if (!pattern.test(model)) continue;
    if (!best || key.replaceAll('*', '').length > best.key.replaceAll('*', '').length) {
      best = { key, terms };
    }
  }
  return best?.terms;
}

/**
 * The terms in force for `provider/model-id`: config.yaml's `model_terms` first (a team's own
 * contract), then what the provider's API said (`fromProvider`), then the catalog; a model none
 * of them knows is `unknown`.
 */
export function termsFor(
  model: string,
  options: {
    config?: Pick<Config, 'modelTerms'>;
    fromProvider?: ReadonlyMap<string, ModelTerms>;
  } = {},
): ModelTerms {
  const override = matchOverride(model, options.config?.modelTerms);
  if (override) {
    return {
      model,
      distillable: override.distillable,
      note: override.note ?? 'set in config.yaml (model_terms)',
      source: override.source,
      asOf: override.as_of,
      origin: 'config',
    };
  }
  const provided = options.fromProvider?.get(model);
  if (provided) return provided;
  const slash = model.indexOf('/');
  const provider = model.slice(0, slash);
  const id = model.slice(slash + 1);
  if (provider === 'scripted') {
    return {
      model,
      distillable: 'yes',
      note: 'A scripted replay: its text is what the team wrote in the script file, not model output.',
      source: 'agentd (scripted replays)',
      asOf: CATALOG_TERMS_AS_OF,
      origin: 'catalog',
    };
  }
  const entry = slash > 0 && isProviderName(provider) ? findModel(provider, id) : undefined;
  if (!entry) {
    return {
      model,
      distillable: 'unknown',
      note: 'not in the catalog and not in config.yaml model_terms: nobody has said whether its outputs may train models',
      source: '',
      asOf: '',
      origin: 'none',
    };
  }
  return {
    model,
    distillable: distillableOf(entry),
    note: entry.distillationNote,
    source: entry.source,
    asOf: CATALOG_TERMS_AS_OF,
    origin: 'catalog',
  };
}
