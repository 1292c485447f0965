import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Config, loadConfig } from '../config/config.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type { Limits } from '../core/events.ts';
import { createRedactor, type Redactor } from '../core/redact.ts';
import { type AgentSpec, loadAgentSpec } from '../definition/agent-spec.ts';
import type { EnvironmentSpec } from '../definition/environment-spec.ts';
import type { OpenEnvironment } from '../environments/open-environment.ts';
import { actorOf } from '../memory/actor.ts';
import { type EffortLevel, isProviderName, providerNames } from '../models/catalog.ts';
import { type ResolvedModel, resolveModel } from '../models/providers.ts';
import { type PolicySource, policySourceOf, runAuthorizer } from '../policy/load.ts';
import type { Tool } from '../tools/tool.ts';
import { openToolset, type PromptRequest, type Toolset } from '../tools/toolset.ts';
import type { AgentDefinition } from './agent-loop.ts';
import type { CompactionSettings } from './compaction.ts';

export interface AgentOverrides {
  /** `provider/model-id` */
  model?: string;
  limits?: Partial<Limits>;
  effort?: EffortLevel;
  /** An MCP prompt to fetch; its text is `toolset.promptText`. */
  prompt?: PromptRequest;
  /** The episode to run instead of the spec's own (an eval case's seed, goal, step limit). */
  environment?: EnvironmentOverride;
}

/** An eval case's episode: over the spec's environment, or a whole environment of its own. */
export type EnvironmentOverride =
  | { seed?: number; goal?: string; max_steps?: number }
  | { spec: EnvironmentSpec };

export interface PreparedAgent {
  config: Config;
  spec: AgentSpec;
  agent: AgentDefinition;
  resolved: ResolvedModel;
  redact: Redactor;
  /** Stops the MCP servers the agent's tools started (and closes the environment). */
  toolset: Toolset;
  /** The folder the agent works in: the run records it, and a resume goes back to it. */
  cwd: string;
  /** The environment the agent acts in, reset with its seed, when the spec or a case has one. */
  environment?: OpenEnvironment;
}

export interface PrepareOptions {
  /** agentd's settings (a server passes its own); default: loaded from this process's environment. */
  config?: Config;
  /**
   * Where the agent was started (connectors' roots are relative to it unless the spec names a
   * `workdir`); default: this process's folder.
   */
  cwd?: string;
  /** The folder the agent works in, whatever its spec says (`agentd run --cwd`). */
  workdir?: string;
  /** Told what a person should know (a model without server-side compaction, ...). */
  onNotice?: (notice: string) => void;
  /** Who the run is for, and the session it continues (for the memory connector). */
  actor?: string;
  sessionId?: string;
  /** Tools the runtime gives the agent besides its spec's (a team's board), in its policy schema. */
  extraTools?: readonly Tool[];
  /** The agent's name in its runs and its principal for policies (default: the spec's name). */
  principal?: string;
  /** The policy set to apply instead of the spec's own (a team's). */
  policy?: PolicySource;
}

/**
 * Everything a run needs from a spec file, with the caller's overrides: the model and its
 * credentials, the tools, the limits.
 */
export async function prepareAgent(
  specPath: string,
  overrides: AgentOverrides = {},
  options: PrepareOptions = {},
): Promise<PreparedAgent> {
  return prepareAgentSpec(loadAgentSpec(specPath), overrides, options);
}

/** `prepareAgent` for a spec already loaded (it is changed by the overrides). */
export async function prepareAgentSpec(
  spec: AgentSpec,
  overrides: AgentOverrides = {},
  options: PrepareOptions = {},
): Promise<PreparedAgent> {
  const config = options.config ?? loadConfig();
  applyOverrides(spec, overrides);
  const resolved = await resolveModel(spec, config);
  const compaction = await compactionOf(spec, config, resolved);
  // Last: it starts MCP servers, which the caller stops when the run is over.
  const cwd = workFolder(spec, options);
  // Under a policy set the http connector returns redirects instead of following them, so
  // every URL fetched is one the policies decided (a permitted host cannot redirect past them).
  const governed: AgentSpec = {
    ...spec,
    ...(options.principal ? { name: options.principal } : {}),
    ...(options.policy ? { policy: options.policy } : {}),
  };
  const connectors = policySourceOf(governed)
    ? { ...spec.connectors, http: { ...spec.connectors.http, followRedirects: false } }
    : spec.connectors;
  const toolset = await openToolset({
    sources: spec.tools,
    specPath: spec.path,
    connectors,
    config,
    cwd,
    ...(overrides.prompt ? { prompt: overrides.prompt } : {}),
    memory: {
      agent: spec.name,
      actor: actorOf(config, options.actor),
      ...(options.sessionId ? { sessionId: options.sessionId } : {}),
      ...(spec.memory ? { memory: spec.memory } : {}),
    },
  });
  const environment = await openEpisode(spec, overrides.environment, config, toolset);
  const tools = [...toolset.tools, ...(options.extraTools ?? [])];
  if (spec.compaction.pin) await pinTools(spec, tools, compaction, toolset);
  // The policy set is checked against the tools the run has: an invalid one never applies.
  let policy: Awaited<ReturnType<typeof runAuthorizer>>;
  try {
    policy = await runAuthorizer({
      spec: governed,
      config,
      tools,
      offered: toolset.offered,
      cwd,
      onNotice: (notice) => resolved.notices.push(notice),
    });
  } catch (error) {
    await toolset.close();
    throw error;
  }
  for (const notice of resolved.notices) options.onNotice?.(notice);
  const settings = { ...spec.settings };
  if (resolved.effort) settings.effort = resolved.effort;
  else delete settings.effort;
  return {
    config,
    spec,
    resolved,
    redact: createRedactor([...resolved.secrets, ...toolset.secrets]),
    toolset,
    cwd,
    ...(environment ? { environment } : {}),
    agent: {
      name: governed.name,
      instructions: spec.instructions,
      model: resolved.model,
      tools,
      settings,
      limits: spec.limits,
      compaction,
      policy,
      ...(environment?.images ? { images: environment.images } : {}),
      ...(spec.tags ? { tags: spec.tags } : {}),
    },
  };
}

/** The caller's model, limits and effort over the spec's. */
function applyOverrides(spec: AgentSpec, overrides: AgentOverrides): void {
  if (overrides.model) {
    const slash = overrides.model.indexOf('/');
    const provider = overrides.model.slice(0, slash);
    if (slash <= 0 || !isProviderName(provider)) {
      throw new AgentdError(
        'usage',
        `--model: "${overrides.model}" is not provider/model-id (providers: ${providerNames.join(', ')})`,
      );
    }
    spec.provider = provider;
    spec.modelId = overrides.model.slice(slash + 1);
  }
  Object.assign(spec.limits, overrides.limits);
  if (overrides.effort) spec.settings.effort = overrides.effort;
}

/** The run's compaction settings, with its summarizer model resolved when the spec names one. */
async function compactionOf(
  spec: AgentSpec,
  config: Config,
  resolved: ResolvedModel,
): Promise<Partial<CompactionSettings>> {
  const compaction: Partial<CompactionSettings> = { ...spec.compaction, model: undefined };
  if (spec.compaction.model) {
    // The summarizer resolves like the agent's model (same keys, same scripted fallback).
    const slash = spec.compaction.model.indexOf('/');
    const summarizer = await resolveModel(
      {
        ...spec,
        provider: spec.compaction.model.slice(0, slash) as AgentSpec['provider'],
        modelId: spec.compaction.model.slice(slash + 1),
        settings: {},
      },
      config,
    );
    compaction.model = summarizer.model;
    resolved.secrets.push(...summarizer.secrets);
  } else {
    delete compaction.model;
  }
  if (spec.compaction.mode === 'provider' && !resolved.model.serverCompaction) {
    resolved.notices.push(
      `${resolved.model.provider}/${resolved.model.id} cannot compact server-side (Anthropic Messages and OpenAI Responses can); agentd compacts the context itself`,
    );
  }
  return compaction;
}

/** The folder the agent works in: the caller's, the spec's, or where it was started; it must exist. */
function workFolder(spec: AgentSpec, options: PrepareOptions): string {
  const cwd = options.workdir ?? spec.workdir ?? options.cwd ?? process.cwd();
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
    throw new AgentdError(
      'spec_invalid',
      options.workdir !== undefined
        ? `--cwd: ${cwd} is not a folder; give the folder the agent works in`
        : spec.workdir !== undefined
          ? `${spec.path}: workdir: ${cwd} is not a folder (create it, or fix the path; it is relative to the spec)`
          : `${cwd} is not a folder`,
    );
  }
  return cwd;
}

/**
 * The environment the run acts in, when it has one, reset for its episode: its tools join the
 * toolset, and closing the toolset closes it. A failure to start it closes the toolset.
 */
async function openEpisode(
  spec: AgentSpec,
  override: EnvironmentOverride | undefined,
  config: Config,
  toolset: Toolset,
): Promise<OpenEnvironment | undefined> {
  const environmentSpec = episodeSpec(spec, override);
  if (!environmentSpec) return undefined;
  let environment: OpenEnvironment;
  try {
    const { openEnvironment } = await import('../environments/open-environment.ts');
    environment = await openEnvironment(environmentSpec, {
      env: config.env,
      framesDir: join(config.home, 'frames'),
    });
  } catch (error) {
    await toolset.close();
    throw error instanceof AgentdError
      ? error
      : new AgentdError(
          'tool_load_failed',
          `${spec.path}: environment: cannot start the ${environmentSpec.kind} environment: ${errorMessage(error)}`,
          { cause: error },
        );
  }
  const closeTools = toolset.close;
  toolset.close = async () => {
    await Promise.allSettled([closeTools(), environment.close()]);
  };
  toolset.tools.push(...environment.tools);
  return environment;
}

/** Pinned tools as the model calls them (`shell.run` is `shell__run`); each must be the agent's. */
async function pinTools(
  spec: AgentSpec,
  tools: readonly Tool[],
  compaction: Partial<CompactionSettings>,
  toolset: Toolset,
): Promise<void> {
  const pinned = spec.compaction.pin ?? [];
  const names = new Set(tools.map((t) => t.name));
  const pin = pinned.map((name) => name.replace('.', '__'));
  compaction.pin = pin;
  const unknown = pinned.find((_, i) => !names.has(pin[i]!));
  if (unknown !== undefined) {
    await toolset.close();
    throw new AgentdError(
      'spec_invalid',
      `${spec.path}: compaction.pin: "${unknown}" is not one of the agent's tools (${[...names].join(', ')})`,
    );
  }
}

/** The environment of a run: the case's own, the spec's with the case's episode, or the spec's. */
function episodeSpec(
  spec: AgentSpec,
  override: EnvironmentOverride | undefined,
): EnvironmentSpec | undefined {
  if (override && 'spec' in override) return override.spec;
  if (!spec.environment) {
    if (override) {
      throw new AgentdError(
        'spec_invalid',
        `${spec.path}: the case is an environment episode but the agent has no environment: section (add one, or give the case an environment)`,
      );
    }
    return undefined;
  }
  return {
    ...spec.environment,
    ...(override?.seed !== undefined ? { seed: override.seed } : {}),
    ...(override?.goal !== undefined ? { goal: override.goal } : {}),
    ...(override?.max_steps !== undefined ? { max_steps: override.max_steps } : {}),
  };
}
