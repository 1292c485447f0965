import type { RunSession } from '../core/events.ts';
import { type Message, resultText } from '../core/messages.ts';
import { foldRun } from '../core/run-state.ts';
import { estimateTokens } from '../core/tokens.ts';
import { type Model, ModelCallError, modelRef } from '../models/model.ts';
import { streamWithRetry } from '../models/retry.ts';
import { compactionInstructions } from '../runtime/compaction.ts';
import type { Store } from '../store/store.ts';

export interface SessionContext {
  session: RunSession;
  /** The session so far, for the first message; undefined for a session's first run. */
  text?: string;
}

/**
 * The earlier runs of a session (same actor and session id), as the next run sees them: their
 * conversations in order, and when they pass the session budget the oldest ones summarized by
 * the compaction model, as compaction does within a run (the summary the last run was given
 * is reused, and only what came since is summarized again).
 */
export async function sessionContext(options: {
  store: Store;
  actor: string;
  sessionId: string;
  /** Most tokens the history may take. */
  maxTokens: number;
  /** Writes the summary of the oldest runs. */
  model: Model;
  signal?: AbortSignal;
}): Promise<SessionContext> {
  const { store, actor, sessionId } = options;
  const runs = await store.memories.sessionRuns(actor, sessionId);
  if (runs.length === 0) return { session: { id: sessionId, previousRuns: [] } };
  const transcripts: { runId: string; text: string }[] = [];
  let summary: string | undefined;
  let summarized: string[] = [];
  for (const runId of runs) {
    const events = await store.readEvents(runId);
    const started = events[0];
    if (started?.type !== 'run.started') continue;
    // The newest earlier run's summary covers the runs before it: start from there.
    if (started.data.session?.summary) {
      summary = started.data.session.summary;
      summarized = started.data.session.summarized ?? [];
    }
    const state = foldRun(runId, events);
    transcripts.push({
      runId,
      text: runTranscript(
        runId,
        state.task,
        state.messages.slice(1),
        state.startedAt,
        state.status,
      ),
    });
  }
  let recent = transcripts.filter((t) => !summarized.includes(t.runId));
  const render = () =>
    [
      ...(summary ? [`[summary of ${summarized.length} earlier run(s)]\n${summary}`] : []),
      ...recent.map((t) => t.text),
    ].join('\n\n');
  let compacted = Boolean(summary);
  if (estimateTokens(render()) > options.maxTokens && recent.length > 0) {
    // Keep the latest run verbatim (clipped to half the budget); summarize what came before.
    const latest = recent.at(-1)!;
    const older = recent.slice(0, -1);
    if (older.length > 0 || summary) {
      const text = [
        ...(summary ? [`[earlier summary]\n${summary}`] : []),
        ...older.map((t) => t.text),
      ].join('\n\n');
      summary = await summarizeSession(options.model, text, options.signal);
      summarized = [...summarized, ...older.map((t) => t.runId)];
      recent = [latest];
      compacted = true;
    }
    const budget = Math.max(200, options.maxTokens - estimateTokens(summary ?? ''));
    if (estimateTokens(latest.text) > budget) {
      recent = [{ runId: latest.runId, text: clipTokens(latest.text, budget) }];
    }
  }
  const session: RunSession = {
    id: sessionId,
    previousRuns: transcripts.map((t) => t.runId),
    ...(compacted ? { compacted: true } : {}),
    ...(summary ? { summary, summarized } : {}),
  };
  const text = [
    `<session id=${JSON.stringify(sessionId)} earlier-runs="${transcripts.length}">`,
    `This run continues a session: the earlier runs follow, oldest first${compacted ? ' (the oldest summarized)' : ''}. Carry on from where they stopped.`,
    render(),
    '</session>',
  ].join('\n');
  return { session, text };
}

function runTranscript(
  runId: string,
  task: string,
  messages: readonly Message[],
  at: string,
  status: string,
): string {
  const lines = [`## ${runId} (${at.slice(0, 16).replace('T', ' ')}, ${status})`, `[user] ${task}`];
  for (const message of messages) {
    switch (message.role) {
      case 'user':
        lines.push(`[user] ${message.text}`);
        break;
      case 'assistant':
        if (message.text.trim()) lines.push(`[assistant] ${message.text}`);
        for (const call of message.toolCalls) {
          lines.push(`[assistant calls ${call.name}] ${clip(JSON.stringify(call.input), 500)}`);
        }
        break;
      case 'tool':
        for (const r of message.results) {
          lines.push(
            `[${r.name} ${r.isError ? 'error' : 'result'}] ${clip(resultText(r.output), 1000)}`,
          );
        }
        break;
    }
  }
  return lines.join('\n');
}

async function summarizeSession(model: Model, text: string, signal?: AbortSignal): Promise<string> {
  let summary = '';
  for await (const part of streamWithRetry(
    model,
    {
      instructions: compactionInstructions,
      messages: [{ role: 'user', text }],
      tools: [],
      settings: {},
      purpose: 'compaction',
    },
    { ...(signal ? { signal } : {}) },
  )) {
    if (part.type === 'text-delta') summary += part.text;
    else if (part.type === 'retry') summary = '';
  }
  if (!summary.trim()) {
    throw new ModelCallError(`${modelRef(model)} returned an empty session summary`, {
      retryable: false,
    });
  }
  return summary.trim();
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

/** The end of a text within a token budget (the latest part matters most). */
function clipTokens(text: string, tokens: number): string {
  const chars = tokens * 4;
  return text.length > chars ? `(earlier part cut)…${text.slice(text.length - chars)}` : text;
}
