import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import type { RunEvent } from '../../core/events.ts';
import { resultText } from '../../core/messages.ts';
import { createRedactor } from '../../core/redact.ts';
import { isProviderName } from '../../models/catalog.ts';
import { resolveModel } from '../../models/providers.ts';
import { type LiveUpdate, runAgent } from '../../runtime/agent-loop.ts';
import { loadAgentSpec } from '../../spec/agent-spec.ts';
import { openStore } from '../../store/open-store.ts';
import { loadTools } from '../../tools/load-tools.ts';
import {
  clip,
  formatCost,
  formatDuration,
  formatInt,
  formatTokens,
  paint,
  statusStyle,
} from '../format.ts';

export interface RunCommandOptions {
  json?: boolean;
  model?: string;
  maxTurns?: number;
}

/** Exit codes: 0 completed, 1 failed, 3 budget exceeded, 4 needs attention, 130 cancelled. */
export const exitCodes = {
  running: 1,
  completed: 0,
  failed: 1,
  budget_exceeded: 3,
  needs_attention: 4,
  cancelled: 130,
} as const;

export async function runCommand(
  specPath: string,
  task: string,
  options: RunCommandOptions,
): Promise<number> {
  if (!task.trim())
    throw new AgentdError(
      'usage',
      'the task is empty: give the agent something to do, e.g. agentd run agent.yaml "count the lines in src/"',
    );
  const config = loadConfig();
  const spec = loadAgentSpec(specPath);
  if (options.model) {
    const slash = options.model.indexOf('/');
    const provider = options.model.slice(0, slash);
    if (slash <= 0 || !isProviderName(provider)) {
      throw new AgentdError(
        'usage',
        `--model: "${options.model}" is not provider/model-id (providers: anthropic, openai, openai-compatible, scripted)`,
      );
    }
    spec.provider = provider;
    spec.modelId = options.model.slice(slash + 1);
  }
  if (options.maxTurns !== undefined) spec.limits.maxTurns = options.maxTurns;
  const resolved = await resolveModel(spec, config);
  const tools = await loadTools(spec.tools, spec.path);
  const redact = createRedactor(resolved.secrets);
  const store = openStore(config, { redact });

  const out = process.stdout;
  const err = process.stderr;
  const json = options.json ?? false;
  for (const notice of resolved.notices) err.write(`${paint('yellow', 'note:')} ${notice}\n`);

  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      err.write(`\n${paint('yellow', 'cancelling… (Ctrl-C again to quit at once)')}\n`);
      controller.abort(new Error('cancelled by the user'));
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSigint);

  let atLineStart = true;
  const write = (text: string) => {
    if (!text) return;
    out.write(text);
    atLineStart = text.endsWith('\n');
  };
  const endLine = () => {
    if (!atLineStart) write('\n');
  };

  let lastError: string | undefined;
  const onEvent = (event: RunEvent) => {
    if (json) {
      out.write(`${redact(JSON.stringify(event))}\n`);
      return;
    }
    switch (event.type) {
      case 'run.started': {
        const d = event.data;
        const model = d.scripted
          ? `${d.model} ${paint('yellow', '(scripted replay, not a model)')}`
          : d.model;
        err.write(
          paint('dim', `agentd · ${d.agent} · `) + model + paint('dim', ` · run ${event.runId}\n`),
        );
        break;
      }
      case 'model.retry':
        endLine();
        err.write(
          paint(
            'yellow',
            `↻ ${event.data.error}; retry ${event.data.attempt} in ${formatDuration(event.data.delayMs)}\n`,
          ),
        );
        break;
      case 'model.response':
        endLine();
        break;
      case 'tool.call':
        err.write(
          paint('cyan', `→ ${event.data.name}`) +
            paint('dim', ` ${clip(JSON.stringify(event.data.input), 100)}\n`),
        );
        break;
      case 'tool.result': {
        const d = event.data;
        const mark = d.isError ? paint('red', `✗ ${d.name}`) : paint('green', `← ${d.name}`);
        err.write(
          `${mark} ${paint('dim', `${clip(resultText(d.output), 100)} (${formatDuration(d.durationMs)})`)}\n`,
        );
        break;
      }
      case 'run.error':
        endLine();
        lastError = event.data.message;
        err.write(`${paint('red', 'error:')} ${event.data.message}\n`);
        break;
      case 'run.finished': {
        endLine();
        const d = event.data;
        const parts = [
          paint(
            statusStyle(d.status),
            d.status === 'completed' ? `✓ ${d.status}` : `✗ ${d.status} (${d.reason})`,
          ),
          `${formatInt(d.turns)} turn${d.turns === 1 ? '' : 's'}`,
          `${formatTokens(d.usage)} tokens`,
          formatCost(d.costUsd),
          formatDuration(d.durationMs),
        ];
        err.write(`${parts.join(paint('dim', ' · '))}\n`);
        if (d.detail && d.status !== 'completed' && d.detail !== lastError)
          err.write(`${paint('dim', 'why:')} ${d.detail}\n`);
        err.write(paint('dim', `run ${event.runId} · agentd runs show ${event.runId}\n`));
        break;
      }
      default:
        break;
    }
  };
  const onLive = json
    ? undefined
    : (update: LiveUpdate) => {
        if (update.type === 'text-delta') write(update.text);
      };

  try {
    const result = await runAgent({
      store,
      agent: {
        name: spec.name,
        instructions: spec.instructions,
        model: resolved.model,
        tools,
        settings: spec.settings,
        limits: spec.limits,
      },
      task,
      specPath: spec.path,
      ...(resolved.scripted ? { scripted: resolved.scripted } : {}),
      signal: controller.signal,
      onEvent,
      ...(onLive ? { onLive } : {}),
    });
    return exitCodes[result.state.status];
  } finally {
    process.off('SIGINT', onSigint);
    await store.close();
  }
}
