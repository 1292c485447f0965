import { resolve } from 'node:path';
import { AgentdError } from '../../core/errors.ts';
import type { Limits, RunStatus } from '../../core/events.ts';
import type { EffortLevel } from '../../models/catalog.ts';
import { runAgent } from '../../runtime/agent-loop.ts';
import { openStore } from '../../store/open-store.ts';
import { prepareAgent } from '../agent-setup.ts';
import { cancelOnInterrupt, createRunView } from '../run-view.ts';

export interface RunCommandOptions {
  json?: boolean;
  model?: string;
  effort?: EffortLevel;
  limits?: Partial<Limits>;
}

/** Exit codes: 0 completed, 1 failed, 3 budget exceeded, 4 needs attention, 130 cancelled. */
export const exitCodes: Record<RunStatus, number> = {
  running: 1,
  completed: 0,
  failed: 1,
  budget_exceeded: 3,
  needs_attention: 4,
  cancelled: 130,
};

export async function runCommand(
  specPath: string,
  task: string,
  options: RunCommandOptions,
): Promise<number> {
  if (!task.trim()) {
    throw new AgentdError(
      'usage',
      'the task is empty: give the agent something to do, e.g. agentd run agent.yaml "count the lines in src/"',
    );
  }
  const { config, spec, agent, resolved, redact } = await prepareAgent(specPath, options);
  const store = openStore(config, { redact });
  const view = createRunView({ json: options.json ?? false, redact });
  const interrupt = cancelOnInterrupt();
  try {
    const result = await runAgent({
      store,
      agent,
      task,
      specPath: resolve(spec.path),
      ...(resolved.scripted ? { scripted: resolved.scripted } : {}),
      signal: interrupt.signal,
      onEvent: view.onEvent,
      ...(view.onLive ? { onLive: view.onLive } : {}),
    });
    return exitCodes[result.state.status];
  } finally {
    interrupt.dispose();
    await store.close();
  }
}
