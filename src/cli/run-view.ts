import type { Config } from '../config/config.ts';
import { describeAnswer, statedIntent } from '../core/approval.ts';
import type { EventOf, RunEvent, RunStatus } from '../core/events.ts';
import { resultText } from '../core/messages.ts';
import type { Redactor } from '../core/redact.ts';
import type { LiveUpdate, RunResult } from '../runtime/agent-loop.ts';
import { describeUse } from '../runtime/budgets.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import {
  clip,
  formatCost,
  formatDuration,
  formatInt,
  formatTokens,
  paint,
  statusStyle,
} from './format.ts';
import { describePolicy } from './policy-format.ts';

export interface RunView {
  onEvent(event: RunEvent): void;
  onLive?: (update: LiveUpdate) => void;
}

/**
 * How a run looks in a terminal: the agent's text on stdout as it streams, tool activity and
 * the summary on stderr. With `json`, every durable event as one JSON line on stdout.
 */
export function createRunView(options: { json: boolean; redact: Redactor }): RunView {
  const out = process.stdout;
  const err = process.stderr;
  if (options.json) {
    return { onEvent: (event) => out.write(`${options.redact(JSON.stringify(event))}\n`) };
  }
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
    switch (event.type) {
      case 'run.started':
        err.write(startedText(event));
        break;
      case 'run.resumed':
        err.write(
          paint(
            'dim',
            `agentd · resuming run ${event.runId} (session ${event.data.session + 1})\n`,
          ),
        );
        break;
      case 'model.retry':
        endLine();
        err.write(
          paint(
            'yellow',
            `↻ ${event.data.error}; retry ${event.data.attempt} in ${formatDuration(event.data.delayMs)}\n`,
          ),
        );
        break;
      case 'voice.transcript': {
        endLine();
        const d = event.data;
        err.write(
          `${paint('cyan', `🎙 "${d.text}"`)} ${paint('dim', `(${d.provider}/${d.model}, final ${formatDuration(d.finalLatencyMs)} after end of speech)`)}\n`,
        );
        break;
      }
      case 'model.response':
        endLine();
        break;
      case 'tool.call':
        err.write(
          paint('cyan', `→ ${event.data.name}`) +
            paint('dim', ` ${clip(JSON.stringify(event.data.input), 100)}\n`),
        );
        break;
      case 'policy.decision': {
        if (event.data.decision === 'deny') endLine();
        const text = decisionText(event.data);
        if (text) err.write(text);
        break;
      }
      case 'tool.result': {
        const d = event.data;
        const mark = d.isError ? paint('red', `✗ ${d.name}`) : paint('green', `← ${d.name}`);
        err.write(
          `${mark} ${paint('dim', `${clip(resultText(d.output), 100)} (${formatDuration(d.durationMs)})`)}\n`,
        );
        break;
      }
      case 'context.compacted':
        endLine();
        err.write(
          paint(
            'dim',
            `⇣ context compacted: ${event.data.removedMessages} messages summarized, ${formatInt(event.data.tokensBefore)} → ${formatInt(event.data.tokensAfter)} tokens\n`,
          ),
        );
        break;
      case 'tool.progress': {
        const d = event.data;
        const share = d.total ? `${Math.round((100 * d.progress) / d.total)}%` : String(d.progress);
        err.write(
          paint('dim', `… ${d.name} ${share}${d.message ? ` ${clip(d.message, 80)}` : ''}\n`),
        );
        break;
      }
      case 'budget.warning':
        endLine();
        err.write(
          paint('yellow', `! ${event.data.budget} budget at 80%: ${describeUse(event.data)}\n`),
        );
        break;
      case 'run.error':
        endLine();
        lastError = event.data.message;
        err.write(`${paint('red', 'error:')} ${event.data.message}\n`);
        break;
      case 'approval.requested':
        endLine();
        err.write(approvalRequestText(event.data));
        break;
      case 'approval.answered': {
        const d = event.data;
        const text = `${d.answer === 'approved' ? '▶' : '⛔'} approval ${d.approvalId}: ${describeAnswer({ status: d.answer, by: d.by, ...(d.reason ? { reason: d.reason } : {}) })}`;
        err.write(`${paint(d.answer === 'approved' ? 'green' : 'red', text)}\n`);
        break;
      }
      case 'run.needs_attention':
        endLine();
        err.write(`${paint('magenta', '⏸ needs attention:')} ${event.data.message}\n`);
        err.write(
          paint(
            'dim',
            `then: agentd runs resume ${event.runId} --rerun-in-doubt | --skip-in-doubt\n`,
          ),
        );
        err.write(footerText(event.runId));
        break;
      case 'run.finished':
        endLine();
        err.write(finishedText(event.data, lastError));
        err.write(footerText(event.runId));
        break;
      default:
        break;
    }
  };
  return {
    onEvent,
    onLive: (update) => {
      if (update.type === 'text-delta') write(update.text);
    },
  };
}

function footerText(runId: string): string {
  return paint('dim', `run ${runId} · agentd runs show ${runId}\n`);
}

/** The run's first line (agent, model, run id), and its policy when it has one. */
function startedText(event: EventOf<'run.started'>): string {
  const d = event.data;
  const model = d.scripted
    ? `${d.model} ${paint('yellow', '(scripted replay, not a model)')}`
    : d.model;
  let text =
    paint('dim', `agentd · ${d.agent} · `) + model + paint('dim', ` · run ${event.runId}\n`);
  if (d.policy && d.policy.mode !== 'none') {
    text += paint('dim', `policy: ${describePolicy(d.policy)}\n`);
  }
  return text;
}

/** A denial (enforced or logged only), or what log-only policies would have decided; else nothing. */
function decisionText(d: EventOf<'policy.decision'>['data']): string {
  if (d.decision === 'deny') {
    return d.effect === 'deny'
      ? `${paint('red', `⛔ policy denied ${d.action}`)} ${paint('dim', `on ${clip(d.resource, 60)}: ${clip(d.reason, 160)}`)}\n`
      : `${paint('yellow', `! policy would deny ${d.action} (log only, allowed)`)} ${paint('dim', `on ${clip(d.resource, 60)}: ${clip(d.reason, 160)}`)}\n`;
  }
  if (d.logOnly)
    return paint('yellow', `! log-only policies would ${d.logOnly.decision} ${d.action}\n`);
  return '';
}

/** A call waiting for a person: what it is, what it says it is for, why, how to answer. */
function approvalRequestText(d: EventOf<'approval.requested'>['data']): string {
  let text = `${paint('magenta', `⏸ awaiting approval ${d.approvalId}${d.resumed ? ' (still)' : ''}:`)} ${d.action} on ${clip(d.resource, 60)} ${paint('dim', clip(JSON.stringify(d.input), 100))}\n`;
  for (const line of statedIntent(d.input)) {
    text += `  ${line.label}: ${clip(line.text, 400)}\n`;
  }
  text += paint('dim', `why: ${clip(d.reason, 160)}; unanswered by ${d.expiresAt}, it is denied\n`);
  text += paint(
    'dim',
    `answer: agentd approvals approve ${d.approvalId} | agentd approvals deny ${d.approvalId} --reason "..."\n`,
  );
  return text;
}

/** The summary line of a finished run, why it stopped (unless its last error said so), its progress. */
function finishedText(d: EventOf<'run.finished'>['data'], lastError: string | undefined): string {
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
  let text = `${parts.join(paint('dim', ' · '))}\n`;
  if (d.detail && d.status !== 'completed' && d.detail !== lastError) {
    text += `${paint('dim', 'why:')} ${d.detail}\n`;
  }
  if (d.summary) text += `${paint('dim', 'progress:')} ${d.summary.replaceAll('\n', '\n  ')}\n`;
  return text;
}

/** What a run needs from the terminal: where it is stored, how it is shown, how it is stopped. */
export interface TerminalRun {
  store: Store;
  signal: AbortSignal;
  onEvent: (event: RunEvent) => void;
  onLive?: (update: LiveUpdate) => void;
}

/**
 * Drives a run (started or resumed by `drive`) in the terminal: the view, Ctrl-C, the store;
 * resolves to the process exit code for the run's status.
 */
export async function runInTerminal(
  options: { config: Config; redact: Redactor; json: boolean },
  drive: (io: TerminalRun) => Promise<RunResult>,
): Promise<number> {
  const store = openStore(options.config, { redact: options.redact });
  const view = createRunView({ json: options.json, redact: options.redact });
  const interrupt = cancelOnInterrupt();
  try {
    const result = await drive({
      store,
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

/**
 * Exit codes: 0 completed, 1 failed, 3 budget exceeded, 4 needs attention, 5 suspended,
 * 6 awaiting approval (a run stops there only when it is stopped), 130 cancelled.
 */
export const exitCodes: Record<RunStatus, number> = {
  running: 1,
  completed: 0,
  failed: 1,
  budget_exceeded: 3,
  needs_attention: 4,
  suspended: 5,
  awaiting_approval: 6,
  cancelled: 130,
};

/**
 * Ctrl-C once aborts the signal (the run ends cleanly as cancelled); twice quits at once.
 * Returns the signal and a function that stops listening.
 */
export function cancelOnInterrupt(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(`\n${paint('yellow', 'cancelling… (Ctrl-C again to quit at once)')}\n`);
    controller.abort(new Error('cancelled by the user'));
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', onSigint) };
}
