import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { loadConfig } from '../../config/config.ts';
import { describeAnswer } from '../../core/approval.ts';
import { AgentdError } from '../../core/errors.ts';
import type { Limits, RunEvent, RunStatus } from '../../core/events.ts';
import { resultText } from '../../core/messages.ts';
import { foldRun } from '../../core/run-state.ts';
import { checkTags } from '../../core/run-tags.ts';
import { addUsage, type Usage, zeroUsage } from '../../core/usage.ts';
import { runUser } from '../../policy/load.ts';
import { describeUse } from '../../runtime/budgets.ts';
import { leaseIsLive } from '../../runtime/run-lease.ts';
import { tagRun } from '../../runtime/run-tagging.ts';
import { openStore } from '../../store/open-store.ts';
import type { RunQuery, RunSummary, Store } from '../../store/store.ts';
import {
  clip,
  formatCost,
  formatDuration,
  formatInt,
  formatTokens,
  paint,
  statusStyle,
  table,
} from '../format.ts';
import { describeDecision, describePolicy } from '../policy-format.ts';

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(loadConfig());
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function findRun(store: Store, id: string): Promise<RunSummary> {
  const run = await store.getRun(id);
  if (!run) {
    throw new AgentdError(
      'run_not_found',
      `no run "${id}" (or the prefix matches several): see agentd runs list`,
    );
  }
  return run;
}

export async function runsListCommand(options: {
  limit?: number;
  status?: string;
  resumable?: boolean;
  tag?: string[];
  json?: boolean;
}): Promise<number> {
  const limit = options.limit ?? 20;
  const tags = checkTags(options.tag ?? [], '--tag');
  const runs = await withStore(async (store) => {
    const query: RunQuery = {
      ...(options.status ? { status: options.status as RunStatus } : {}),
      ...(tags.length ? { tags } : {}),
    };
    if (!options.resumable) return (await store.queryRuns({ ...query, limit })).runs;
    // Interrupted: still "running" in the log, but no live process holds it.
    const leases = new Map((await store.listLeases()).map((lease) => [lease.runId, lease]));
    const candidates = (await store.queryRuns({ ...query, limit: 10_000 })).runs;
    return candidates
      .filter((run) => {
        if (run.status === 'needs_attention') return true;
        // waiting for approval is resumable only when its process is gone
        if (run.status !== 'running' && run.status !== 'awaiting_approval') return false;
        const lease = leases.get(run.id);
        return !lease || !leaseIsLive(lease);
      })
      .slice(0, limit);
  });
  if (options.json) {
    for (const run of runs) process.stdout.write(`${JSON.stringify(run)}\n`);
    return 0;
  }
  if (runs.length === 0) {
    process.stdout.write(
      options.resumable || options.status || tags.length
        ? 'no such runs\n'
        : 'no runs yet: start one with agentd run <agent.yaml> "<task>"\n',
    );
    return 0;
  }
  const withTags = runs.some((r) => r.tags?.length);
  const rows = runs.map((r) => [
    r.id,
    r.status,
    r.agent,
    r.model,
    r.turns === undefined ? '-' : String(r.turns),
    r.usage ? formatInt(r.usage.inputTokens + r.usage.outputTokens) : '-',
    r.costUsd === undefined ? '-' : formatCost(r.costUsd),
    r.createdAt.replace('T', ' ').slice(0, 19),
    clip(r.task, 40),
    ...(withTags ? [clip(r.tags?.join(' ') ?? '-', 40)] : []),
  ]);
  const headers = ['RUN', 'STATUS', 'AGENT', 'MODEL', 'TURNS', 'TOKENS', 'COST', 'STARTED (UTC)'];
  process.stdout.write(`${table([...headers, 'TASK', ...(withTags ? ['TAGS'] : [])], rows)}\n`);
  return 0;
}

/** `agentd runs tag|untag <run-id> <tag>...`: a change of a run's tags, as an event of its log. */
export async function runsTagCommand(
  id: string,
  change: { add?: string[]; remove?: string[] },
): Promise<number> {
  const config = loadConfig();
  const { runId, tags } = await withStore(async (store) => {
    const run = await findRun(store, id);
    const tags = await tagRun(store, run.id, { ...change, by: runUser(config.env) });
    return { runId: run.id, tags };
  });
  process.stdout.write(`run ${runId}: ${tags.length ? `tags ${tags.join(' ')}` : 'no tags'}\n`);
  return 0;
}

export async function runsShowCommand(id: string, options: { json?: boolean }): Promise<number> {
  const { run, events } = await withStore(async (store) => {
    const run = await findRun(store, id);
    return { run, events: await store.readEvents(run.id) };
  });
  const state = foldRun(run.id, events);
  if (options.json) {
    const { pendingCalls, ...rest } = state;
    process.stdout.write(
      `${JSON.stringify({ ...rest, pendingCalls: [...pendingCalls.keys()] }, null, 2)}\n`,
    );
    return 0;
  }
  const o = process.stdout;
  const style = statusStyle(state.status);
  o.write(
    `${paint('bold', `run ${run.id}`, o)} · ${state.agent} · ${state.model} · ${paint(style, state.status, o)}${state.reason ? ` (${state.reason})` : ''}\n`,
  );
  o.write(`task: ${state.task}\n`);
  if (state.tags.length) o.write(`tags: ${state.tags.join(' ')}\n`);
  const started = Date.parse(state.startedAt);
  const ended = state.finishedAt ? Date.parse(state.finishedAt) : undefined;
  o.write(
    `${[
      `started ${state.startedAt.replace('T', ' ').slice(0, 19)} UTC`,
      `${state.turns} turn${state.turns === 1 ? '' : 's'}`,
      `${formatTokens(state.usage)} tokens`,
      formatCost(state.costKnown ? state.costUsd : null),
      ...(ended ? [formatDuration(ended - started)] : []),
      `${state.toolCalls} tool call${state.toolCalls === 1 ? '' : 's'}${state.toolErrors ? ` (${state.toolErrors} failed)` : ''}`,
    ].join(' · ')}\n`,
  );
  if (state.detail) o.write(`why: ${state.detail}\n`);
  if (state.status === 'awaiting_approval') {
    for (const id of openApprovals(events)) {
      o.write(
        `waiting for approval ${id}: agentd approvals approve ${id} | agentd approvals deny ${id} --reason "..."\n`,
      );
    }
  }
  const efforts = usageByEffort(events);
  if (efforts.size > 1 || (efforts.size === 1 && !efforts.has('default'))) {
    const parts = [...efforts].map(
      ([effort, u]) => `${effort}: ${formatTokens(u.usage)} · ${formatCost(u.cost)}`,
    );
    o.write(`by effort: ${parts.join('; ')}\n`);
  }
  o.write('\n');
  for (const event of events) {
    const offset = `+${((Date.parse(event.at) - started) / 1000).toFixed(3)}s`;
    o.write(
      `${paint('dim', `${String(event.seq).padStart(4)} ${offset.padStart(9)}`, o)}  ${event.type.padEnd(typeWidth)} ${describe(event)}\n`,
    );
  }
  const finished = events.findLast((e) => e.type === 'run.finished');
  if (finished?.type === 'run.finished' && finished.data.summary && state.status !== 'running') {
    o.write(`\n${finished.data.summary}\n`);
  }
  if (state.output) o.write(`\n${state.output}\n`);
  return 0;
}

/** The approvals a run's log shows it waiting for (requested, not answered). */
function openApprovals(events: readonly RunEvent[]): string[] {
  const open = new Set<string>();
  for (const event of events) {
    if (event.type === 'approval.requested') open.add(event.data.approvalId);
    if (event.type === 'approval.answered') open.delete(event.data.approvalId);
  }
  return [...open];
}

/** Tokens and cost of a run's responses, by the effort their request asked for. */
function usageByEffort(
  events: readonly RunEvent[],
): Map<string, { usage: Usage; cost: number | null }> {
  const out = new Map<string, { usage: Usage; cost: number | null }>();
  let effort = 'default';
  for (const event of events) {
    if (event.type === 'model.request') effort = event.data.effort ?? 'default';
    if (event.type !== 'model.response') continue;
    const entry = out.get(effort) ?? { usage: zeroUsage, cost: 0 };
    entry.usage = addUsage(entry.usage, event.data.usage);
    entry.cost =
      entry.cost === null || event.data.costUsd === null ? null : entry.cost + event.data.costUsd;
    out.set(effort, entry);
  }
  return out;
}

/** Width of the event-type column in a timeline (`context.compacted` is the longest). */
const typeWidth = 19;

function describe(event: RunEvent): string {
  switch (event.type) {
    case 'run.started': {
      const d = event.data;
      const tools = d.tools.map((t) => t.name).join(', ') || 'none';
      return `agent ${d.agent}, model ${d.model}${d.scripted ? ` (scripted replay of ${d.scripted.script})` : ''}, tools: ${tools}, limits ${describeLimits(d.limits)}, policy: ${describePolicy(d.policy)}${d.tags?.length ? `, tags: ${d.tags.join(' ')}` : ''}`;
    }
    case 'model.request': {
      const d = event.data;
      const context =
        d.contextTokens === undefined
          ? ''
          : `, context ${formatInt(d.contextTokens)}${d.contextWindow ? ` of ${formatInt(d.contextWindow)} (${Math.round((100 * d.contextTokens) / d.contextWindow)}%)` : ''} tokens`;
      return `turn ${d.turn}: ${d.messageCount} messages, ${d.toolCount} tools${d.effort ? `, effort ${d.effort}` : ''}${context}`;
    }
    case 'context.compacted': {
      const d = event.data;
      const events = d.removedEvents.length
        ? ` (events #${d.removedEvents[0]}–#${d.removedEvents.at(-1)})`
        : '';
      const summary = d.summary.split('\n');
      const shown =
        summary.length > 20
          ? [...summary.slice(0, 20), `… ${summary.length - 20} more lines (--json for all)`]
          : summary;
      return `${d.mode}: ${d.removedMessages} messages${events} → summary by ${d.model}; ${formatInt(d.tokensBefore)} → ${formatInt(d.tokensAfter)} tokens · ${formatCost(d.costUsd)}\n${shown.map((line) => `${' '.repeat(16 + typeWidth)}│ ${line}`).join('\n')}`;
    }
    case 'model.retry':
      return `attempt ${event.data.attempt} after ${formatDuration(event.data.delayMs)}: ${event.data.error}`;
    case 'model.response': {
      const d = event.data;
      const what = d.toolCalls.length
        ? `${d.toolCalls.length} tool call${d.toolCalls.length === 1 ? '' : 's'}${d.text ? ` + "${clip(d.text, 40)}"` : ''}`
        : `"${clip(d.text, 60)}"`;
      return `turn ${d.turn}: ${what} · ${formatTokens(d.usage)} · ${formatCost(d.costUsd)} · ${d.stopReason} · ${formatDuration(d.durationMs)}`;
    }
    case 'tool.call':
      return `${event.data.name} ${clip(JSON.stringify(event.data.input), 80)} [${event.data.callId}]`;
    case 'tool.progress': {
      const d = event.data;
      const share = d.total ? ` (${Math.round((100 * d.progress) / d.total)}%)` : '';
      return `${d.name} ${d.progress}${d.total ? `/${d.total}` : ''}${share}${d.message ? `: ${clip(d.message, 60)}` : ''} [${d.callId}]`;
    }
    case 'tool.result': {
      const d = event.data;
      return `${d.name} ${d.isError ? `ERROR (${d.errorKind}) ` : ''}${clip(resultText(d.output), 80)} · ${formatDuration(d.durationMs)} [${d.callId}]`;
    }
    case 'policy.decision':
      return describeDecision(event.data);
    case 'run.error':
      return `${event.data.code}: ${event.data.message}`;
    case 'run.resumed':
      return `session ${event.data.session + 1}${event.data.inDoubt ? `, calls in doubt: ${event.data.inDoubt}` : ''}${event.data.limits ? `, limits ${describeLimits(event.data.limits)}` : ''}${event.data.policy ? `, policy: ${describePolicy(event.data.policy)}` : ''}`;
    case 'run.needs_attention':
      return `${event.data.calls.map((c) => `${c.name} [${c.callId}]`).join(', ')}: ${event.data.message}`;
    case 'approval.requested': {
      const d = event.data;
      return `${d.approvalId}${d.resumed ? ' (waiting again after a resume)' : ''}: ${d.name} ${clip(JSON.stringify(d.input), 60)} on ${d.resource} · ${d.reason} · denied if unanswered by ${d.expiresAt} [${d.callId}]`;
    }
    case 'approval.answered': {
      const d = event.data;
      return `${d.approvalId}: ${describeAnswer({ status: d.answer, by: d.by, ...(d.reason ? { reason: d.reason } : {}) })}${d.auditSeq !== undefined ? ` · audit #${d.auditSeq}` : ''} [${d.callId}]`;
    }
    case 'voice.transcript': {
      const d = event.data;
      return `#${d.utterance} "${clip(d.text, 60)}" · ${d.provider}/${d.model} · ${formatDuration(d.endMs - d.startMs)} of audio · final ${formatDuration(d.finalLatencyMs)} after end of speech · ${formatCost(d.costUsd)}`;
    }
    case 'run.tagged': {
      const d = event.data;
      const changes = [...d.added.map((t) => `+${t}`), ...d.removed.map((t) => `-${t}`)];
      return `${changes.join(' ')} by ${d.by}`;
    }
    case 'user.message':
      return `${event.data.source === 'voice' ? 'spoken: ' : ''}${clip(event.data.text, 80)}`;
    case 'run.suspended':
      return `${event.data.reason} (resumes when agentd serve starts again, or: agentd runs resume ${event.runId})`;
    case 'budget.warning':
      return `${event.data.budget} at ${Math.round((100 * event.data.used) / event.data.limit)}% (${describeUse(event.data)})`;
    case 'run.finished': {
      const d = event.data;
      return `${d.status} (${d.reason}) · ${d.turns} turns · ${formatTokens(d.usage)} · ${formatCost(d.costUsd)} · ${formatDuration(d.durationMs)}`;
    }
  }
}

export async function runsExportCommand(id: string, options: { output?: string }): Promise<number> {
  const events = await withStore(async (store) => store.readEvents((await findRun(store, id)).id));
  const out = options.output ? createWriteStream(options.output) : process.stdout;
  for (const event of events) {
    if (!out.write(`${JSON.stringify(event)}\n`)) await once(out, 'drain');
  }
  if (options.output) {
    out.end();
    await once(out, 'finish');
    process.stderr.write(`wrote ${events.length} events to ${options.output}\n`);
  }
  return 0;
}

function describeLimits(limits: Limits): string {
  return [
    `${limits.maxTurns} turns`,
    ...(limits.maxTokens !== undefined ? [`${formatInt(limits.maxTokens)} tokens`] : []),
    ...(limits.maxCostUsd !== undefined ? [`$${limits.maxCostUsd}`] : []),
    ...(limits.maxTimeMs !== undefined ? [formatDuration(limits.maxTimeMs)] : []),
  ].join(', ');
}
