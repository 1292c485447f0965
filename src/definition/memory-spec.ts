import { resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../core/duration.ts';
import { checkNamespace, type MemoryKind } from '../core/memory.ts';
import { isProviderName, providerNames } from '../models/catalog.ts';

/** The strategies an agent spec names, and the kind of memory each writes. */
export const strategyKinds = {
  preferences: 'preference',
  facts: 'fact',
  summaries: 'summary',
  episodes: 'episode',
} as const satisfies Record<string, MemoryKind>;
export type StrategyName = keyof typeof strategyKinds;
const strategyNames = Object.keys(strategyKinds) as StrategyName[];

/** Where each strategy writes unless the spec says otherwise. */
export const defaultNamespaces: Record<StrategyName, string> = {
  preferences: '/actor/{actorId}/preferences',
  facts: '/agent/{agent}/facts',
  summaries: '/actor/{actorId}/sessions',
  episodes: '/agent/{agent}/episodes',
};

const placeholders = ['actorId', 'agent', 'team', 'sessionId'] as const;

/** A namespace template: `/actor/{actorId}/...` with known placeholders, a valid path once filled. */
const namespaceTemplate = z.string().superRefine((value, ctx) => {
  for (const [, name] of value.matchAll(/\{([^}]*)\}/g)) {
    if (!(placeholders as readonly string[]).includes(name!)) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown placeholder {${name}} in "${value}" (use ${placeholders.map((p) => `{${p}}`).join(', ')})`,
      });
      return;
    }
  }
  const problem = checkNamespace(fillNamespace(value, sample));
  if (problem) ctx.addIssue({ code: 'custom', message: problem.replace(/"[^"]*"/, `"${value}"`) });
});

const sample = { actorId: 'a', agent: 'b', team: 'c', sessionId: 'd' };

const strategy = z.union([
  z.literal(true),
  z.strictObject({ namespace: namespaceTemplate.optional() }),
]);

const modelRef = z.string().superRefine((value, ctx) => {
  const slash = value.indexOf('/');
  const provider = slash === -1 ? value : value.slice(0, slash);
  if (!isProviderName(provider)) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown provider "${provider}" (known: ${providerNames.join(', ')})`,
    });
  } else if (slash === -1 || slash === value.length - 1) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" has no model id (write provider/model-id)`,
    });
  }
});

const durationText = z.union([z.number().positive(), z.string()]).transform((value, ctx) => {
  const days = typeof value === 'string' ? /^(\d+)d$/.exec(value.trim()) : null;
  const ms = days
    ? Number(days[1]) * 86_400_000
    : typeof value === 'number'
      ? value * 1000
      : parseDuration(value);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `"${value}" is not a duration (write e.g. 30d, 12h, or a number of seconds)`,
    });
    return z.NEVER;
  }
  return ms;
});

/** `memory:` in an agent spec. */
export const memorySpecSchema = z.strictObject({
  /** The team the agent works in: its memories can live under /team/{team}. */
  team: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, ".", "_" or "-"')
    .optional(),
  /** What extraction looks for: a list of names, or a map with a namespace per strategy. */
  strategies: z
    .union([
      z.array(z.enum(strategyNames)).min(1),
      z.strictObject({
        preferences: strategy.optional(),
        facts: strategy.optional(),
        summaries: strategy.optional(),
        episodes: strategy.optional(),
      }),
    ])
    .optional(),
  extraction: z
    .strictObject({
      enabled: z.boolean().optional(),
      /** The model that extracts memories (default: the agent's). */
      model: modelRef.optional(),
      /** Scripted extractions: the extractor for scripted/*, else the offline fallback. */
      script: z.string().min(1).optional(),
    })
    .optional(),
  recall: z
    .strictObject({
      /** Recall at the start of each run (default true). */
      enabled: z.boolean().optional(),
      /** Most tokens recalled memories may take (default 800). */
      max_tokens: z.int().positive().optional(),
      /** Most memories recalled (default 8). */
      limit: z.int().positive().max(50).optional(),
      /** Only memories written or confirmed this recently, e.g. 90d. */
      max_age: durationText.optional(),
      /** Recall untrusted memories too, quoted as data (default true). */
      untrusted: z.boolean().optional(),
      /** The namespaces searched (default /actor/{actorId}, /agent/{agent}, /team/{team}). */
      namespaces: z.array(namespaceTemplate).min(1).optional(),
    })
    .optional(),
  session: z
    .strictObject({
      /** Most tokens the earlier runs of a session may take before they are summarized (default 3000). */
      max_tokens: z.int().positive().optional(),
    })
    .optional(),
});

/** `memory:` of an agent spec, with defaults applied and paths resolved. */
export interface MemorySpec {
  team?: string;
  /** Enabled strategies and the namespace template each writes to. */
  strategies: Partial<Record<StrategyName, string>>;
  extraction: { enabled: boolean; model?: string; script?: string };
  recall: {
    enabled: boolean;
    maxTokens: number;
    limit: number;
    maxAgeMs?: number;
    untrusted: boolean;
    namespaces: string[];
  };
  session: { maxTokens: number };
}

/** The parsed `memory:` section; `path` is the spec file (for messages), `dir` its folder. */
export function memorySpec(
  raw: z.output<typeof memorySpecSchema>,
  dir: string,
  path: string,
): MemorySpec | string {
  const strategies: Partial<Record<StrategyName, string>> = {};
  const given = raw.strategies ?? strategyNames;
  if (Array.isArray(given)) {
    for (const name of given) strategies[name] = defaultNamespaces[name];
  } else {
    for (const name of strategyNames) {
      const value = given[name];
      if (value === undefined) continue;
      strategies[name] =
        value === true ? defaultNamespaces[name] : (value.namespace ?? defaultNamespaces[name]);
    }
  }
  const namespaces = raw.recall?.namespaces ?? [
    '/actor/{actorId}',
    '/agent/{agent}',
    ...(raw.team ? ['/team/{team}'] : []),
  ];
  const templates = [...Object.values(strategies), ...namespaces];
  const model = raw.extraction?.model;
  if (model?.startsWith('scripted/') && !raw.extraction?.script) {
    return `${path}: memory.extraction.script: is required when memory.extraction.model is "${model}" (the scripted extractions to replay)`;
  }
  if (!raw.team) {
    const withTeam = templates.find((t) => t.includes('{team}'));
    if (withTeam) {
      return `${path}: memory: "${withTeam}" uses {team}, but memory.team is not set (set memory.team: <name>)`;
    }
  }
  return {
    ...(raw.team ? { team: raw.team } : {}),
    strategies,
    extraction: {
      enabled: raw.extraction?.enabled ?? true,
      ...(raw.extraction?.model ? { model: raw.extraction.model } : {}),
      ...(raw.extraction?.script ? { script: resolve(dir, raw.extraction.script) } : {}),
    },
    recall: {
      enabled: raw.recall?.enabled ?? true,
      maxTokens: raw.recall?.max_tokens ?? 800,
      limit: raw.recall?.limit ?? 8,
      ...(raw.recall?.max_age !== undefined ? { maxAgeMs: raw.recall.max_age } : {}),
      untrusted: raw.recall?.untrusted ?? true,
      namespaces,
    },
    session: { maxTokens: raw.session?.max_tokens ?? 3000 },
  };
}

/** A namespace template with its placeholders filled. */
export function fillNamespace(
  template: string,
  values: { actorId: string; agent: string; team?: string; sessionId?: string },
): string {
  return template.replace(/\{(actorId|agent|team|sessionId)\}/g, (_, name: string) => {
    const value = values[name as keyof typeof values];
    return value ?? `{${name}}`;
  });
}
