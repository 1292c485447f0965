import { resolve } from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import type { Limits } from '../../core/events.ts';
import type { EffortLevel } from '../../models/catalog.ts';
import { runAgent } from '../../runtime/agent-loop.ts';
import { prepareAgent } from '../../runtime/prepare-agent.ts';
import { resolveAgentRef } from '../../spec/agent-catalog.ts';
import { printNotice } from '../format.ts';
import { runInTerminal } from '../run-view.ts';

export interface RunCommandOptions {
  json?: boolean;
  model?: string;
  effort?: EffortLevel;
  limits?: Partial<Limits>;
}

/** `agentRef` is a spec file, or the name of an agent in the catalog (see `agentd agents list`). */
export async function runCommand(
  agentRef: string,
  task: string,
  options: RunCommandOptions,
): Promise<number> {
  if (!task.trim()) {
    throw new AgentdError(
      'usage',
      'the task is empty: give the agent something to do, e.g. agentd run agent.yaml "count the lines in src/"',
    );
  }
  const specPath = resolveAgentRef(agentRef, loadConfig());
  const { config, spec, agent, resolved, redact, toolset } = await prepareAgent(specPath, options, {
    onNotice: printNotice,
  });
  try {
    return await runInTerminal({ config, redact, json: options.json ?? false }, (io) =>
      runAgent({
        ...io,
        agent,
        task,
        specPath: resolve(spec.path),
        ...(resolved.scripted ? { scripted: resolved.scripted } : {}),
      }),
    );
  } finally {
    await toolset.close();
  }
}
