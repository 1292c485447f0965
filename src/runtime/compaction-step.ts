import { errorMessage } from '../core/errors.ts';
import { pinnedText, withSummary } from '../core/run-state.ts';
import { estimateTokens, messageTokens } from '../core/tokens.ts';
import { contextTokens, messagesToCompact, pinnedResults, summarize } from './compaction.ts';
import { failed, stopped } from './finish.ts';
import type { Loop, RunResult } from './loop-context.ts';

/**
 * Runtime compaction before a model turn: when the context would pass the threshold of the
 * window, older turns give way to a summary a model writes (`context.compacted`). Returns the
 * context's size in tokens for the request, or the run's end when the summary failed or the
 * run stopped while it was written. Off when the provider compacts server-side.
 */
export async function compactContext(loop: Loop, turn: number): Promise<number | RunResult> {
  const { state, compaction, window, overhead, signal } = loop;
  const tokens = contextTokens(state, overhead, loop.tokenRatio);
  const runtimeCompaction = compaction.enabled && loop.serverTrigger === undefined;
  if (!window || !runtimeCompaction || tokens <= compaction.threshold * window) return tokens;
  const removed = messagesToCompact(state.messages, compaction.keepRecentTurns);
  if (removed <= 0) return tokens;
  try {
    const written = await summarize({
      state,
      removed,
      model: compaction.model ?? loop.model,
      turn,
      signal,
      ...(loop.options.retryPolicy ? { retryPolicy: loop.options.retryPolicy } : {}),
    });
    const kept = [state.messages[0]!, ...state.messages.slice(1 + removed)];
    const pinned = compaction.pin?.length ? pinnedResults(state, removed, compaction.pin) : [];
    const after =
      overhead +
      estimateTokens(withSummary(pinnedText(state), written.summary, pinned)) +
      kept.slice(1).reduce((n, m) => n + messageTokens(m), 0);
    await loop.log.append({
      type: 'context.compacted',
      data: {
        mode: 'runtime',
        removedMessages: removed,
        removedEvents: state.messageEvents.slice(1, 1 + removed).flat(),
        tokensBefore: tokens,
        tokensAfter: after,
        ...written,
        ...(compaction.pin?.length ? { pinned } : {}),
      },
    });
    return after;
  } catch (error) {
    if (signal.aborted) return await stopped(loop);
    const message = `compaction failed: ${errorMessage(error)}`;
    return await failed(loop, 'compaction_failed', 'model_error', message);
  }
}
