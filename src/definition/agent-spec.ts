import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { agentdHome } from '../config/config.ts';
import { parseDuration } from '../core/duration.ts';
import { AgentdError } from '../core/errors.ts';
import type { Limits } from '../core/events.ts';
import { maxTagsPerRun, tagProblem } from '../core/run-tags.ts';
import {
  effortLevels,
  isProviderName,
  type ProviderName,
  providerNames,
} from '../models/catalog.ts';
import type { ModelSettings } from '../models/model.ts';
import { parseToolRef, type ToolSource } from '../tools/tool-ref.ts';
import { durationSchema } from './duration-schema.ts';
import {
  type EnvironmentSpec,
  environmentSpec,
  environmentSpecSchema,
} from './environment-spec.ts';
import { type MemorySpec, memorySpec, memorySpecSchema } from './memory-spec.ts';
import { parseYamlFile } from './yaml-file.ts';

const modelString = z.string().superRefine((value, ctx) => {
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
      message: `"${value}" has no model id (write provider/model-id, e.g. ${provider}/${exampleIds[provider]})`,
    });
  }
});

const exampleIds: Record<ProviderName, string> = {
  anthropic: 'claude-sonnet-4-5',
  openai: 'gpt-5',
  'openai-compatible': 'qwen3:8b',
  ollama: 'qwen3:8b',
  local: 'qwen3-8b-q4_k_m.gguf',
  scripted: 'demo',
};

/**
 * `provider.chat_template` of a local model: node-llama-cpp's chat wrapper types
 * (`resolveChatWrapper`'s `type`), `auto` being the GGUF's own template. Kept equal to
 * node-llama-cpp's `specializedChatWrapperTypeNames` (a test checks), so parsing a spec never
 * loads node-llama-cpp.
 */
export const localChatTemplates = [
  'auto',
  'general',
  'deepSeek',
  'qwen',
  'llama3.2-lightweight',
  'llama3.1',
  'llama3',
  'llama2Chat',
  'mistral',
  'alpacaChat',
  'functionary',
  'chatML',
  'falconChat',
  'gemma4',
  'gemma',
  'harmony',
  'muse',
  'seed',
] as const;
export type LocalChatTemplate = (typeof localChatTemplates)[number];

const agentSpecSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, ".", "_" or "-"'),
  description: z.string().optional(),
  /** Tags every run of the agent gets (`key=value` or names; see docs/spec-format.md). */
  tags: z
    .array(
      z.string().superRefine((tag, ctx) => {
        const problem = tagProblem(tag);
        if (problem) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(tag)} ${problem}` });
      }),
    )
    .max(maxTagsPerRun, `a run has at most ${maxTagsPerRun} tags`)
    .optional(),
  model: modelString,
  provider: z
    .strictObject({
      base_url: z.url().optional(),
      api: z.enum(['responses', 'chat']).optional(),
      api_key_env: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
        .optional(),
      /** local models: tokens per sequence, sequences at once, CPU threads. */
      context_size: z.int().min(16).optional(),
      sequences: z.int().min(1).max(64).optional(),
      threads: z.int().min(1).optional(),
      /** local models: the chat template (node-llama-cpp's chat wrapper) instead of the GGUF's own. */
      chat_template: z.enum(localChatTemplates).optional(),
    })
    .optional(),
  model_settings: z
    .strictObject({
      temperature: z.number().min(0).max(2).optional(),
      top_p: z.number().min(0).max(1).optional(),
      max_output_tokens: z.int().positive().optional(),
      stop: z.array(z.string()).optional(),
      seed: z.int().optional(),
    })
    .optional(),
  instructions: z.string().default(''),
  tools: z
    .array(
      z.union([
        z.string().superRefine((ref, ctx) => {
          const parsed = parseToolRef(ref);
          if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
        }),
        z.strictObject({ module: z.string().min(1), only: z.array(z.string()).optional() }),
      ]),
    )
    .default([]),
  /** Options of the built-in connectors; paths are relative to the folder the agent runs in. */
  connectors: z
    .strictObject({
      fs: z.strictObject({ roots: z.array(z.string()).min(1) }).optional(),
      shell: z
        .strictObject({
          cwd: z.string().optional(),
          timeout: z
            .union([z.number().positive(), z.string()])
            .superRefine((value, ctx) => {
              if (typeof value === 'string' && !((parseDuration(value) ?? 0) > 0)) {
                ctx.addIssue({
                  code: 'custom',
                  message: `"${value}" is not a duration (write e.g. 30s, 5m, or a number of seconds)`,
                });
              }
            })
            .optional(),
          env_allowlist: z.array(z.string()).optional(),
          sandbox: z.enum(['auto', 'required', 'off']).optional(),
          network: z.boolean().optional(),
          read_only: z.boolean().optional(),
          paths: z
            .array(
              z.union([
                z.string().min(1),
                z.strictObject({ path: z.string().min(1), writable: z.boolean().optional() }),
              ]),
            )
            .optional(),
        })
        .optional(),
      http: z.strictObject({ allow_private: z.array(z.string()).optional() }).optional(),
      /** `read_only: false` lets the agent change agentd's settings (default: read only). */
      settings: z.strictObject({ read_only: z.boolean().optional() }).optional(),
    })
    .optional(),
  limits: z
    .strictObject({
      max_turns: z.int().positive().optional(),
      max_tool_repairs: z.int().min(0).optional(),
      max_tokens: z.int().positive().optional(),
      max_cost_usd: z.number().positive().optional(),
      max_time: durationSchema.optional(),
    })
    .optional(),
  effort: z.enum(effortLevels).optional(),
  compaction: z
    .strictObject({
      enabled: z.boolean().optional(),
      threshold: z.number().gt(0).max(1).optional(),
      keep_recent_turns: z.int().positive().optional(),
      model: modelString.optional(),
      context_window: z.int().positive().optional(),
      mode: z.enum(['runtime', 'provider', 'auto']).optional(),
      /** Tools whose latest result stays verbatim through compaction (`update_plan`, `shell.run`). */
      pin: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  script: z.string().min(1).optional(),
  /** The folder the agent works in, relative to this file (default: where agentd runs). */
  workdir: z.string().min(1).optional(),
  /** Long-term memory: strategies, extraction, recall, sessions (see docs/memory.md). */
  memory: memorySpecSchema.optional(),
  /** A world the agent acts in through step tools (see docs/environments.md). */
  environment: environmentSpecSchema.optional(),
  /** Cedar policies for the agent's tool calls (see docs/policy.md). */
  policy: z
    .strictObject({
      dir: z.string().min(1).optional(),
      /** A policy set saved in the store (`agentd policy save`): its active version applies. */
      set: z
        .string()
        .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a policy set name (see agentd policy sets)')
        .optional(),
      mode: z.enum(['enforce', 'log_only']).optional(),
      /** How long a call that needs a person's approval waits before it is denied. */
      approval_timeout: durationSchema.optional(),
    })
    .optional(),
});

export interface ConnectorOptions {
  fs?: { roots: string[] };
  shell?: {
    cwd?: string;
    timeoutMs?: number;
    envAllowlist?: string[];
    /** auto (default): bubblewrap where installed; required: refuse to start without it; off. */
    sandbox?: 'auto' | 'required' | 'off';
    /** Network inside the sandbox (default false). */
    network?: boolean;
    /** Its folder is read-only inside the sandbox (needs bubblewrap). */
    readOnly?: boolean;
    /** Further paths the sandboxed command sees, relative to the folder the agent runs in. */
    paths?: { path: string; writable: boolean }[];
  };
  /** `followRedirects` is not a spec field: agentd sets it false when a policy set applies. */
  http?: { allowPrivate?: string[]; followRedirects?: boolean };
  settings?: { readOnly?: boolean };
}

/** An agent spec file, validated, with paths resolved against the file's folder. */
export interface AgentSpec {
  path: string;
  name: string;
  description?: string;
  /** Tags every run of the agent gets, repeats dropped. */
  tags?: string[];
  provider: ProviderName;
  modelId: string;
  providerOptions: {
    baseUrl?: string;
    api?: 'responses' | 'chat';
    apiKeyEnv?: string;
    /** local/: how the GGUF is loaded (the first load in a process decides). */
    local?: { contextSize?: number; sequences?: number; threads?: number };
    /** local/: the chat template to use instead of the one the GGUF resolves to. */
    chatTemplate?: LocalChatTemplate;
  };
  settings: ModelSettings;
  instructions: string;
  tools: ToolSource[];
  connectors: ConnectorOptions;
  limits: Partial<Limits>;
  compaction: {
    enabled?: boolean;
    threshold?: number;
    keepRecentTurns?: number;
    /** `provider/model-id` of the model that writes summaries. */
    model?: string;
    contextWindow?: number;
    mode?: 'runtime' | 'provider' | 'auto';
    /** Tools whose latest result stays verbatim through compaction, as the spec names them. */
    pin?: string[];
  };
  /** Absolute path of the scripted-model script: the model for `scripted/*`, else the offline fallback. */
  script?: string;
  /**
   * Absolute path of the folder the agent works in (connectors' roots and the shell's folder
   * are relative to it), when the spec names one; `agentd run --cwd` overrides it.
   */
  workdir?: string;
  /** Long-term memory, when the spec has a `memory:` section. */
  memory?: MemorySpec;
  /** The environment the agent acts in, when the spec has an `environment:` section. */
  environment?: EnvironmentSpec;
  /**
   * The policy set: its folder (absolute; default `policies/` beside the spec) and mode.
   * Absent: the spec has no `policy:` (a `policies/` folder beside it still applies).
   */
  policy?: {
    dir: string;
    /** The stored policy set `dir` holds the active version of. */
    set?: string;
    mode: 'enforce' | 'log_only';
    approvalTimeoutMs?: number;
  };
}

export function loadAgentSpec(path: string): AgentSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AgentdError(
      'spec_not_found',
      code === 'EISDIR'
        ? `${path}: is a folder; give the agent's YAML file`
        : `${path}: agent spec not found (give the path to an agent YAML file, e.g. examples/repo-inspector/agent.yaml)`,
    );
  }
  return parseAgentSpec(path, text);
}

export function parseAgentSpec(path: string, text: string): AgentSpec {
  const raw = parseYamlFile(path, text, agentSpecSchema);
  const dir = dirname(resolve(path));
  const slash = raw.model.indexOf('/');
  const provider = raw.model.slice(0, slash) as ProviderName;
  const spec: AgentSpec = {
    path,
    name: raw.name,
    provider,
    modelId: raw.model.slice(slash + 1),
    providerOptions: {},
    settings: {},
    instructions: raw.instructions,
    tools: raw.tools.map((t): ToolSource => {
      if (typeof t === 'string') return parseToolRef(t) as ToolSource;
      return {
        kind: 'module',
        module: resolve(dir, t.module),
        ...(t.only ? { only: t.only } : {}),
      };
    }),
    connectors: connectorOptions(raw.connectors),
    limits: {},
    compaction: {},
  };
  if (raw.description) spec.description = raw.description;
  if (raw.tags?.length) spec.tags = [...new Set(raw.tags)];
  if (raw.provider?.base_url) spec.providerOptions.baseUrl = raw.provider.base_url;
  if (raw.provider?.api) spec.providerOptions.api = raw.provider.api;
  if (raw.provider?.api_key_env) spec.providerOptions.apiKeyEnv = raw.provider.api_key_env;
  const { context_size, sequences, threads } = raw.provider ?? {};
  if (context_size !== undefined || sequences !== undefined || threads !== undefined) {
    if (provider !== 'local') {
      throw new AgentdError(
        'spec_invalid',
        `${path}: provider.context_size, sequences and threads only apply to local models (this agent uses ${provider})`,
      );
    }
    spec.providerOptions.local = {
      ...(context_size !== undefined ? { contextSize: context_size } : {}),
      ...(sequences !== undefined ? { sequences } : {}),
      ...(threads !== undefined ? { threads } : {}),
    };
  }
  if (raw.provider?.chat_template !== undefined) {
    if (provider !== 'local') {
      throw new AgentdError(
        'spec_invalid',
        `${path}: provider.chat_template only applies to local models (this agent uses ${provider})`,
      );
    }
    spec.providerOptions.chatTemplate = raw.provider.chat_template;
  }
  const s = raw.model_settings;
  if (s?.temperature !== undefined) spec.settings.temperature = s.temperature;
  if (s?.top_p !== undefined) spec.settings.topP = s.top_p;
  if (s?.max_output_tokens !== undefined) spec.settings.maxOutputTokens = s.max_output_tokens;
  if (s?.stop) spec.settings.stopSequences = s.stop;
  if (s?.seed !== undefined) spec.settings.seed = s.seed;
  if (raw.limits?.max_turns !== undefined) spec.limits.maxTurns = raw.limits.max_turns;
  if (raw.limits?.max_tool_repairs !== undefined) {
    spec.limits.maxToolRepairs = raw.limits.max_tool_repairs;
  }
  if (raw.limits?.max_tokens !== undefined) spec.limits.maxTokens = raw.limits.max_tokens;
  if (raw.limits?.max_cost_usd !== undefined) spec.limits.maxCostUsd = raw.limits.max_cost_usd;
  if (raw.limits?.max_time !== undefined) spec.limits.maxTimeMs = raw.limits.max_time;
  if (raw.effort) spec.settings.effort = raw.effort;
  const c = raw.compaction;
  if (c?.enabled !== undefined) spec.compaction.enabled = c.enabled;
  if (c?.threshold !== undefined) spec.compaction.threshold = c.threshold;
  if (c?.keep_recent_turns !== undefined) spec.compaction.keepRecentTurns = c.keep_recent_turns;
  if (c?.model) spec.compaction.model = c.model;
  if (c?.context_window !== undefined) spec.compaction.contextWindow = c.context_window;
  if (c?.mode) spec.compaction.mode = c.mode;
  if (c?.pin) spec.compaction.pin = c.pin;
  if (raw.script) spec.script = resolve(dir, raw.script);
  if (raw.workdir) spec.workdir = resolve(dir, raw.workdir);
  if (raw.memory) {
    const memory = memorySpec(raw.memory, dir, path);
    if (typeof memory === 'string') throw new AgentdError('spec_invalid', memory);
    spec.memory = memory;
  }
  if (raw.environment) spec.environment = environmentSpec(raw.environment, dir);
  if (raw.policy?.dir && raw.policy.set) {
    throw new AgentdError(
      'spec_invalid',
      `${path}: policy: give dir (a folder of .cedar files) or set (a saved policy set), not both`,
    );
  }
  if (raw.policy) {
    spec.policy = {
      dir: raw.policy.set
        ? join(agentdHome(), 'policy-sets', raw.policy.set, 'active')
        : resolve(dir, raw.policy.dir ?? 'policies'),
      ...(raw.policy.set ? { set: raw.policy.set } : {}),
      mode: raw.policy.mode ?? 'enforce',
      ...(raw.policy.approval_timeout !== undefined
        ? { approvalTimeoutMs: raw.policy.approval_timeout }
        : {}),
    };
  }
  if (provider === 'scripted' && !spec.script) {
    throw new AgentdError(
      'spec_invalid',
      `${path}: script: is required when model is "${raw.model}" (the path of a script of turns to replay)`,
    );
  }
  if (raw.provider?.api && provider !== 'openai') {
    throw new AgentdError(
      'spec_invalid',
      `${path}: provider.api: only applies to openai models (this agent uses ${provider})`,
    );
  }
  return spec;
}

function connectorOptions(raw: z.output<typeof agentSpecSchema>['connectors']): ConnectorOptions {
  const out: ConnectorOptions = {};
  if (raw?.fs) out.fs = { roots: raw.fs.roots };
  if (raw?.shell) {
    const { timeout } = raw.shell;
    const timeoutMs =
      timeout === undefined
        ? undefined
        : typeof timeout === 'number'
          ? timeout * 1000
          : parseDuration(timeout);
    out.shell = {
      ...(raw.shell.cwd ? { cwd: raw.shell.cwd } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
      ...(raw.shell.env_allowlist ? { envAllowlist: raw.shell.env_allowlist } : {}),
      ...(raw.shell.sandbox ? { sandbox: raw.shell.sandbox } : {}),
      ...(raw.shell.network !== undefined ? { network: raw.shell.network } : {}),
      ...(raw.shell.read_only ? { readOnly: true } : {}),
      ...(raw.shell.paths
        ? {
            paths: raw.shell.paths.map((p) =>
              typeof p === 'string'
                ? { path: p, writable: false }
                : { path: p.path, writable: p.writable === true },
            ),
          }
        : {}),
    };
  }
  if (raw?.http) out.http = raw.http.allow_private ? { allowPrivate: raw.http.allow_private } : {};
  if (raw?.settings) {
    out.settings = raw.settings.read_only === undefined ? {} : { readOnly: raw.settings.read_only };
  }
  return out;
}
