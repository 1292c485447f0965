import { resolve } from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import type { Limits } from '../../core/events.ts';
import { checkTags } from '../../core/run-tags.ts';
import { resolveAgentRef } from '../../definition/agent-catalog.ts';
import { loadAgentSpec } from '../../definition/agent-spec.ts';
import { actorOf } from '../../memory/actor.ts';
import type { RunMemory } from '../../memory/run-memory.ts';
import type { WorkerReport } from '../../memory/worker.ts';
import type { EffortLevel } from '../../models/catalog.ts';
import { type RunResult, runAgent } from '../../runtime/agent-loop.ts';
import { prepareAgentSpec } from '../../runtime/prepare-agent.ts';
import type { PromptRequest } from '../../tools/toolset.ts';
import { paint, printNotice } from '../format.ts';
import { runInTerminal } from '../run-view.ts';

export interface RunCommandOptions {
  json?: boolean;
  model?: string;
  effort?: EffortLevel;
  limits?: Partial<Limits>;
  /** `server/prompt`: an MCP prompt whose text is the task (or comes before it). */
  prompt?: string;
  /** `name=value` arguments of the prompt. */
  arg?: string[];
  /** Continue this session (same actor and session id): earlier runs come along. */
  session?: string;
  /** Who the run is for (memory namespaces /actor/{actor}). */
  actor?: string;
  /** The folder the agent works in, over the spec's `workdir`. */
  cwd?: string;
  /** The run's own tags (`--tag`, repeatable), after the spec's. */
  tag?: string[];
}

/** `--prompt server/name --arg k=v ...` as a request, or a one-line usage error. */
function promptRequest(options: RunCommandOptions): PromptRequest | undefined {
  if (!options.prompt) {
    if (options.arg?.length) {
      throw new AgentdError(
        'usage',
        '--arg: arguments belong to a prompt: give --prompt server/name',
      );
    }
    return undefined;
  }
  const slash = options.prompt.indexOf('/');
  if (slash <= 0 || slash === options.prompt.length - 1) {
    throw new AgentdError(
      'usage',
      `--prompt: "${options.prompt}" is not server/prompt (e.g. --prompt github/review_pr)`,
    );
  }
  const args: Record<string, string> = {};
  for (const pair of options.arg ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new AgentdError('usage', `--arg: "${pair}" is not name=value`);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return {
    server: options.prompt.slice(0, slash),
    name: options.prompt.slice(slash + 1),
    arguments: args,
  };
}

/** `agentRef` is a spec file, or the name of an agent in the catalog (see `agentd agents list`). */
export async function runCommand(
  agentRef: string,
  taskArgument: string | undefined,
  options: RunCommandOptions,
): Promise<number> {
  const prompt = promptRequest(options);
  const tags = checkTags(options.tag ?? [], '--tag');
  const specPath = resolveAgentRef(agentRef, loadConfig());
  const loaded = loadAgentSpec(specPath);
  // An agent in an environment has its goal in the spec: a task given is the goal instead.
  if (!prompt && !taskArgument?.trim() && !loaded.environment) {
    throw new AgentdError(
      'usage',
      'the task is empty: give the agent something to do, e.g. agentd run agent.yaml "count the lines in src/"',
    );
  }
  const { config, spec, agent, resolved, redact, toolset, cwd, environment } =
    await prepareAgentSpec(
      loaded,
      {
        ...(options.model ? { model: options.model } : {}),
        ...(options.effort ? { effort: options.effort } : {}),
        ...(options.limits ? { limits: options.limits } : {}),
        ...(prompt ? { prompt } : {}),
      },
      {
        onNotice: printNotice,
        ...(options.cwd !== undefined ? { workdir: resolve(options.cwd) } : {}),
        ...(options.actor ? { actor: options.actor } : {}),
        ...(options.session ? { sessionId: options.session } : {}),
      },
    );
  // A prompt's text comes first; a task given as well follows it.
  const given = [toolset.promptText, taskArgument?.trim()].filter(Boolean).join('\n\n');
  const task = environment ? environment.task(given || undefined) : given;
  let result: RunResult | undefined;
  let memory: RunMemory | undefined;
  try {
    if (options.session !== undefined && !/^[\w.:-]{1,128}$/.test(options.session)) {
      throw new AgentdError(
        'usage',
        `--session: "${options.session}" is not a session id (letters, digits, . _ : -; up to 128)`,
      );
    }
    if (spec.memory || options.session || options.actor) {
      const { startRunMemory } = await import('../../memory/run-memory.ts');
      memory = await startRunMemory({
        config,
        spec,
        agent,
        redact,
        actor: actorOf(config, options.actor),
        ...(options.session ? { sessionId: options.session } : {}),
        task,
        onNotice: printNotice,
        onReport: reportExtraction,
      });
    }
    const run = memory;
    const code = await runInTerminal(
      { config, redact, json: options.json ?? false },
      async (io) => {
        result = await runAgent({
          ...io,
          ...(run ? { ...run.runOptions, onEvent: run.watch(io.onEvent) } : {}),
          agent,
          task,
          specPath: resolve(spec.path),
          cwd,
          ...(resolved.scripted ? { scripted: resolved.scripted } : {}),
          ...(tags.length ? { tags } : {}),
        });
        // Queued (durably) before the exit code is known; extracted after, in the background.
        await run?.finished(result);
        return result;
      },
    );
    // The run is over and reported; what it taught is extracted before the process exits
    // (Ctrl-C leaves it queued, and the next run with memory extracts it).
    if (run) await run.drain();
    return code;
  } finally {
    await memory?.close();
    await toolset.close();
    // Online evaluation (online_eval in config.yaml) scores a sample of finished runs.
    if (result && config.onlineEval) {
      (await import('../../evals/online-hook.ts')).scoreAfterRun(config, result);
    }
  }
}

/** One line on stderr per extraction the worker did. */
export function reportExtraction(report: WorkerReport): void {
  const { job } = report;
  if (report.error) {
    printNotice(`memory: extraction from ${job.runId} failed: ${report.error}`);
    return;
  }
  const outcomes = report.report?.outcomes ?? [];
  const count = (action: string) => outcomes.filter((o) => o.action === action).length;
  const parts = [
    `${count('added') + count('kept-apart')} new`,
    `${count('superseded')} updated`,
    `${count('duplicate')} already known`,
  ];
  const untrusted = outcomes.filter(
    (o) => o.action !== 'duplicate' && o.memory.trust === 'untrusted',
  ).length;
  process.stderr.write(
    `${paint('dim', `memory: ${job.runId}${job.reason === 'compaction' ? ' (compacted turns)' : ''}: ${parts.join(', ')}${untrusted ? `; ${untrusted} untrusted (from tool output)` : ''}`)}\n`,
  );
}
