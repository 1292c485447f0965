import { existsSync } from 'node:fs';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import type { Limits } from '../../core/events.ts';
import type { EffortLevel } from '../../models/catalog.ts';
import { type RunResult, resumeRun } from '../../runtime/agent-loop.ts';
import { prepareAgent } from '../../runtime/prepare-agent.ts';
import { openStore } from '../../store/open-store.ts';
import { paint, printNotice } from '../format.ts';
import { runInTerminal } from '../run-view.ts';

export interface ResumeCommandOptions {
  json?: boolean;
  model?: string;
  effort?: EffortLevel;
  limits?: Partial<Limits>;
  rerunInDoubt?: boolean;
  skipInDoubt?: boolean;
}

/**
 * Continues a run from its last durable event, with the agent its spec file describes now
 * and the model it ran with (unless --model says otherwise), in the folder it ran in.
 */
export async function resumeCommand(id: string, options: ResumeCommandOptions): Promise<number> {
  if (options.rerunInDoubt && options.skipInDoubt) {
    throw new AgentdError(
      'usage',
      '--rerun-in-doubt and --skip-in-doubt exclude each other: choose one',
    );
  }
  const lookup = openStore(loadConfig());
  let started: Awaited<ReturnType<typeof lookup.readEvents>>[number] | undefined;
  let runId: string;
  try {
    const run = await lookup.getRun(id);
    if (!run)
      throw new AgentdError(
        'run_not_found',
        `no run "${id}" (or the prefix matches several): see agentd runs list`,
      );
    runId = run.id;
    if (run.status === 'completed') {
      throw new AgentdError(
        'run_not_resumable',
        `run ${run.id} already completed; there is nothing to resume`,
      );
    }
    // A member's run goes on with its team: its tools are the team's board and mailboxes.
    const team = await lookup.teams.teamOfRun(run.id);
    if (team) {
      throw new AgentdError(
        'run_not_resumable',
        `run ${run.id} is a member's run of team ${team}; resume the team: agentd team resume ${team}`,
      );
    }
    [started] = await lookup.readEvents(run.id, { limit: 1 });
  } finally {
    await lookup.close();
  }
  if (started?.type !== 'run.started' || !started.data.specPath) {
    throw new AgentdError(
      'run_not_resumable',
      `run ${runId} was not started from an agent spec file; resume it from code with resumeRun()`,
    );
  }
  const { specPath, cwd, model } = started.data;
  if (!existsSync(specPath)) {
    throw new AgentdError(
      'spec_not_found',
      `run ${runId} was started from ${specPath}, which is gone; restore it to resume the run`,
    );
  }
  if (cwd && cwd !== process.cwd() && existsSync(cwd)) {
    process.stderr.write(`${paint('dim', `(in ${cwd}, where the run started)`)}\n`);
    process.chdir(cwd);
  }
  const { config, spec, agent, redact, toolset } = await prepareAgent(
    specPath,
    {
      ...options,
      model: options.model ?? model,
    },
    {
      onNotice: printNotice,
      // The folder the run worked in, whatever its spec says now.
      ...(cwd && existsSync(cwd) ? { workdir: cwd } : {}),
      ...(started.data.actor ? { actor: started.data.actor } : {}),
      ...(started.data.session ? { sessionId: started.data.session.id } : {}),
    },
  );
  let result: RunResult | undefined;
  try {
    const code = await runInTerminal(
      { config, redact, json: options.json ?? false },
      async (io) => {
        result = await resumeRun({
          ...io,
          runId,
          agent,
          ...(options.limits && Object.keys(options.limits).length
            ? { limits: options.limits }
            : {}),
          ...(options.rerunInDoubt ? { inDoubt: 'rerun' as const } : {}),
          ...(options.skipInDoubt ? { inDoubt: 'skip' as const } : {}),
        });
        return result;
      },
    );
    // What the run did since its last extraction is extracted now (long-term memory).
    if (result && spec.memory?.extraction.enabled) {
      const { extractAfterResume } = await import('../../memory/run-memory.ts');
      const { reportExtraction } = await import('./run.ts');
      await extractAfterResume({
        config,
        redact,
        result,
        specPath,
        onNotice: printNotice,
        onReport: reportExtraction,
      });
    }
    return code;
  } finally {
    await toolset.close();
    // Online evaluation (online_eval in config.yaml) scores a sample of finished runs.
    if (result && config.onlineEval) {
      (await import('../../evals/online-hook.ts')).scoreAfterRun(config, result);
    }
  }
}
