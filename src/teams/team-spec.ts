import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';
import type { Config } from '../config/config.ts';
import { AgentdError } from '../core/errors.ts';
import type { Limits } from '../core/events.ts';
import { loadCatalogAgent } from '../definition/agent-catalog.ts';
import { type AgentSpec, loadAgentSpec, parseAgentSpec } from '../definition/agent-spec.ts';
import { durationSchema } from '../definition/duration-schema.ts';
import { parseYamlFile, readableDepth } from '../definition/yaml-file.ts';
import {
  type EffortLevel,
  effortLevels,
  isProviderName,
  providerNames,
} from '../models/catalog.ts';
import type { PolicySource } from '../policy/load.ts';
import type { TeamBudget } from '../store/team-store.ts';

const name = /^[a-z0-9][a-z0-9._-]*$/;
const roleName = /^[a-z][a-z0-9_-]*$/;
/** Names members cannot have: the lead's, and what messages and tasks use for everyone. */
const reserved = new Set(['lead', 'all', 'team', 'agentd']);

const limits = z.strictObject({
  max_turns: z.int().positive().optional(),
  max_tool_repairs: z.int().min(0).optional(),
  max_tokens: z.int().positive().optional(),
  max_cost_usd: z.number().positive().optional(),
  max_time: durationSchema.optional(),
});

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

/** An agent: a spec file (relative to the team file), an agent of this machine, or inline. */
const agentRef = z.union([
  z.string().min(1),
  z.record(z.string(), z.unknown()).describe('an agent spec, written inline'),
]);

const role = z.union([
  z.string().min(1),
  z.strictObject({
    agent: agentRef,
    /** What the role does: the lead is told, to split work well. */
    description: z.string().optional(),
    model: modelRef.optional(),
    effort: z.enum(effortLevels).optional(),
    /** Added after the agent's own instructions. */
    instructions: z.string().optional(),
    limits: limits.optional(),
    /** How many teammates of this role (named <role>-1, <role>-2, ...). */
    count: z.int().min(1).max(32).optional(),
    /** `git-clone`: each member works in a clone of its own of the lead's repository. */
    workspace: z.enum(['git-clone']).optional(),
  }),
]);

const teamSchema = z.strictObject({
  name: z.string().regex(name, 'use lowercase letters, digits, ".", "_" or "-"'),
  description: z.string().optional(),
  lead: role,
  teammates: z.record(z.string(), role).superRefine((roles, ctx) => {
    const names = Object.keys(roles);
    if (names.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'a team needs at least one teammate role' });
    }
    for (const key of names) {
      if (!roleName.test(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `"${key}" is not a role name (lowercase letters, digits, "_" or "-", starting with a letter)`,
        });
      } else if (reserved.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `"${key}" is reserved (${[...reserved].join(', ')}); name the role otherwise`,
        });
      }
    }
  }),
  /** Teammates running at once (the lead does not count). */
  max_running: z.int().min(1).max(64).optional(),
  /** Bounds the sum of every member's runs. */
  budget: z
    .strictObject({
      max_turns: z.int().positive().optional(),
      max_tokens: z.int().positive().optional(),
      max_cost_usd: z.number().positive().optional(),
      max_time: durationSchema.optional(),
    })
    .optional(),
  /** Cedar policies for every member (principal Agent::"<team>/<member>"). */
  policy: z
    .strictObject({
      dir: z.string().min(1).optional(),
      mode: z.enum(['enforce', 'log_only']).optional(),
    })
    .optional(),
});

/** A role of a team: its agent and what the team file changes about it. */
export interface TeamRole {
  /** `lead` for the lead. */
  role: string;
  /** The members of the role: `lead`, the role's name, or `<role>-<n>`. */
  members: string[];
  description?: string;
  /** The agent spec, loaded and checked (paths in it resolved). */
  spec: AgentSpec;
  /** Where it came from, for people: a path, `agent <name>`, or `inline`. */
  source: string;
  model?: string;
  effort?: EffortLevel;
  instructions?: string;
  limits: Partial<Limits>;
  /** Each member works in a git clone of its own of the lead's repository (`workspace.ts`). */
  workspace?: 'git-clone';
}

/** A team.yaml, validated, with every agent it names loaded. */
export interface TeamSpec {
  path: string;
  name: string;
  description?: string;
  lead: TeamRole;
  teammates: TeamRole[];
  maxRunning: number;
  budget: TeamBudget;
  /** The team's policy set; without one, each member's own spec decides (as its principal). */
  policy?: PolicySource;
}

export function loadTeamSpec(path: string, config: Pick<Config, 'home' | 'agentDirs'>): TeamSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AgentdError(
      'spec_not_found',
      code === 'EISDIR'
        ? `${path}: is a folder; give the team's YAML file (e.g. ${join(path, 'team.yaml')})`
        : `${path}: team file not found (give the path to a team YAML file, e.g. examples/team/team.yaml)`,
    );
  }
  return parseTeamSpec(path, text, config);
}

export function parseTeamSpec(
  path: string,
  text: string,
  config: Pick<Config, 'home' | 'agentDirs'>,
): TeamSpec {
  return readableDepth(path, () => parseTeamText(path, text, config));
}

function parseTeamText(
  path: string,
  text: string,
  config: Pick<Config, 'home' | 'agentDirs'>,
): TeamSpec {
  const raw = parseYamlFile(path, text, teamSchema);
  const dir = dirname(resolve(path));
  const lead = loadRole(path, dir, 'lead', 'lead', raw.lead, config);
  if (typeof raw.lead === 'object' && raw.lead.count !== undefined) {
    throw new AgentdError('spec_invalid', `${path}: lead.count: a team has one lead; remove count`);
  }
  if (typeof raw.lead === 'object' && raw.lead.workspace !== undefined) {
    throw new AgentdError(
      'spec_invalid',
      `${path}: lead.workspace: the lead works in the repository itself; give workspace to teammates`,
    );
  }
  const teammates = Object.entries(raw.teammates).map(([key, value]) =>
    loadRole(path, dir, `teammates.${key}`, key, value, config),
  );
  const members = teammates.flatMap((r) => r.members);
  const clash = members.find((m, i) => members.indexOf(m) !== i);
  if (clash) {
    throw new AgentdError(
      'spec_invalid',
      `${path}: teammates: two members would be named "${clash}" (a role with count makes <role>-1, <role>-2, ...); rename a role`,
    );
  }
  const budget: TeamBudget = {};
  const b = raw.budget;
  if (b?.max_turns !== undefined) budget.maxTurns = b.max_turns;
  if (b?.max_tokens !== undefined) budget.maxTokens = b.max_tokens;
  if (b?.max_cost_usd !== undefined) budget.maxCostUsd = b.max_cost_usd;
  if (b?.max_time !== undefined) budget.maxTimeMs = b.max_time;
  const spec: TeamSpec = {
    path,
    name: raw.name,
    lead,
    teammates,
    maxRunning: raw.max_running ?? members.length,
    budget,
  };
  if (raw.description) spec.description = raw.description;
  const policy = teamPolicy(dir, raw.policy);
  if (policy) spec.policy = policy;
  return spec;
}

/** The team's policy folder: its `policy:`, else a `policies/` folder beside it with `.cedar` files. */
function teamPolicy(
  dir: string,
  raw: z.output<typeof teamSchema>['policy'],
): PolicySource | undefined {
  if (raw) return { dir: resolve(dir, raw.dir ?? 'policies'), mode: raw.mode ?? 'enforce' };
  const folder = join(dir, 'policies');
  try {
    if (readdirSync(folder).some((f) => f.endsWith('.cedar')))
      return { dir: folder, mode: 'enforce' };
  } catch {
    // no such folder
  }
  return undefined;
}

function loadRole(
  file: string,
  dir: string,
  field: string,
  key: string,
  raw: z.output<typeof role>,
  config: Pick<Config, 'home' | 'agentDirs'>,
): TeamRole {
  const entry = typeof raw === 'string' ? { agent: raw } : raw;
  const agentField = typeof raw === 'string' ? field : `${field}.agent`;
  const { spec, source } = loadAgent(file, dir, agentField, key, entry.agent, config);
  const count = 'count' in entry ? (entry.count ?? 1) : 1;
  const out: TeamRole = {
    role: key,
    members:
      key === 'lead'
        ? ['lead']
        : count === 1
          ? [key]
          : Array.from({ length: count }, (_, i) => `${key}-${i + 1}`),
    spec,
    source,
    limits: {},
  };
  if ('description' in entry && entry.description) out.description = entry.description;
  else if (spec.description) out.description = spec.description;
  if ('model' in entry && entry.model) out.model = entry.model;
  if ('effort' in entry && entry.effort) out.effort = entry.effort;
  if ('instructions' in entry && entry.instructions) out.instructions = entry.instructions;
  if ('workspace' in entry && entry.workspace) out.workspace = entry.workspace;
  const l = 'limits' in entry ? entry.limits : undefined;
  if (l?.max_turns !== undefined) out.limits.maxTurns = l.max_turns;
  if (l?.max_tool_repairs !== undefined) out.limits.maxToolRepairs = l.max_tool_repairs;
  if (l?.max_tokens !== undefined) out.limits.maxTokens = l.max_tokens;
  if (l?.max_cost_usd !== undefined) out.limits.maxCostUsd = l.max_cost_usd;
  if (l?.max_time !== undefined) out.limits.maxTimeMs = l.max_time;
  if (out.model) {
    const provider = out.model.slice(0, out.model.indexOf('/'));
    if (provider === 'scripted' && !spec.script) {
      throw new AgentdError(
        'spec_invalid',
        `${file}: ${field}.model: "${out.model}" is a scripted replay, but the agent has no script: (give it one, or another model)`,
      );
    }
  }
  return out;
}

function loadAgent(
  file: string,
  dir: string,
  field: string,
  key: string,
  ref: string | Record<string, unknown>,
  config: Pick<Config, 'home' | 'agentDirs'>,
): { spec: AgentSpec; source: string } {
  if (typeof ref !== 'string') {
    // Inline: checked as an agent spec file would be, its errors named by the team file's field.
    const label = `${resolve(dir, `${key}.team-agent`)}`;
    try {
      const spec = parseAgentSpec(label, stringify({ name: key, ...ref }));
      // Paths in it are relative to the team file, and errors name the team file.
      spec.path = resolve(file);
      return { spec, source: 'inline' };
    } catch (error) {
      if (error instanceof AgentdError) {
        const detail = error.message.startsWith(`${label}: `)
          ? error.message.slice(label.length + 2)
          : error.message;
        throw new AgentdError(
          error.code,
          `${file}: ${field}.${detail.replace(/^invalid YAML: /, '')}`,
        );
      }
      throw error;
    }
  }
  const looksLikePath = ref.includes('/') || ['.yaml', '.yml'].includes(extname(ref));
  const candidate = resolve(dir, ref);
  if (looksLikePath || existsSync(candidate)) {
    if (!existsSync(candidate)) {
      throw new AgentdError(
        'spec_not_found',
        `${file}: ${field}: "${ref}" not found (${candidate}); give an agent spec path relative to the team file, or the name of an agent (see agentd agents list)`,
      );
    }
    const spec = loadAgentSpec(candidate);
    return { spec, source: ref };
  }
  try {
    return { spec: loadCatalogAgent(config, ref), source: `agent ${ref}` };
  } catch (error) {
    if (error instanceof AgentdError) {
      throw new AgentdError(error.code, `${file}: ${field}: ${error.message}`);
    }
    throw error;
  }
}
