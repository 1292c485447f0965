import type { Usage } from '../core/usage.ts';
import { catalogEntries } from './catalog-data.ts';

export const providerNames = [
  'anthropic',
  'openai',
  'openai-compatible',
  'ollama',
  'local',
  'scripted',
] as const;
export type ProviderName = (typeof providerNames)[number];
export const effortLevels = ['minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
export type EffortLevel = (typeof effortLevels)[number];
export type Distillation = 'allowed' | 'restricted' | 'prohibited';

export interface Pricing {
  /** USD per million input tokens not read from cache. */
  input: number;
  /** USD per million output tokens. */
  output: number;
  /** USD per million input tokens read from the prompt cache. */
  cachedInput?: number;
  /** USD per million input tokens written to the prompt cache. */
  cacheWrite?: number;
}

export interface CatalogEntry {
  provider: ProviderName;
  id: string;
  aliases?: readonly string[];
  displayName: string;
  contextWindow: number;
  maxOutputTokens: number;
  pricing?: Pricing;
  effort?: readonly EffortLevel[];
  providerCompaction?: boolean;
  /** Whether the provider's terms or the model's license allow training on its outputs. */
  distillation: Distillation;
  distillationNote: string;
  source: string;
}

export function isProviderName(value: string): value is ProviderName {
  return (providerNames as readonly string[]).includes(value);
}

const scriptedEntry: CatalogEntry = {
  provider: 'scripted',
  id: '*',
  displayName: 'Scripted replay (not a model)',
  contextWindow: 200_000,
  maxOutputTokens: 64_000,
  pricing: { input: 0, output: 0, cachedInput: 0, cacheWrite: 0 },
  distillation: 'prohibited',
  distillationNote: 'Replays a script written by a person; its output is not model output.',
  source: 'agentd',
};

export const catalog: readonly CatalogEntry[] = catalogEntries;

const index = new Map<string, CatalogEntry>();
for (const entry of catalog) {
  for (const id of [entry.id, ...(entry.aliases ?? [])])
    index.set(`${entry.provider}/${id}`, entry);
}

/** The catalog entry for `provider/id`, matching aliases and dated snapshots. */
export function findModel(provider: ProviderName, id: string): CatalogEntry | undefined {
  if (provider === 'scripted') return scriptedEntry;
  const exact = index.get(`${provider}/${id}`);
  if (exact) return exact;
  // `claude-sonnet-4-5-20250929` and `gpt-4o-2024-08-06` are snapshots of a catalog id.
  const undated = id.replace(/-(?:\d{8}|\d{4}-\d{2}-\d{2})$/, '');
  if (undated !== id) return index.get(`${provider}/${undated}`);
  return undefined;
}

/** USD for one response's usage, or null when the price is unknown. */
export function costOf(usage: Usage, pricing: Pricing | undefined): number | null {
  if (!pricing) return null;
  const cached = usage.cachedInputTokens;
  const written = usage.cacheWriteTokens;
  const fresh = Math.max(0, usage.inputTokens - cached - written);
  const usd =
    fresh * pricing.input +
    cached * (pricing.cachedInput ?? pricing.input) +
    written * (pricing.cacheWrite ?? pricing.input) +
    usage.outputTokens * pricing.output;
  return usd / 1_000_000;
}
