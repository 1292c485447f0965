import { type Model, ModelCallError, type ModelRequest, type ModelStreamPart } from './model.ts';

export interface RetryPolicy {
  /** Attempts after the first. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxRetries: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
};

/** Emitted when an attempt failed and another follows: drop what the failed attempt streamed. */
export interface RetryNotice {
  type: 'retry';
  attempt: number;
  delayMs: number;
  error: ModelCallError;
}

export type RetryingStreamPart = ModelStreamPart | RetryNotice;

/**
 * Streams a model request, retrying provider errors that may pass (429, 5xx, overloaded,
 * dropped connections) with exponential backoff and full jitter, waiting at least what the
 * provider's `retry-after` asks. Gives up after `maxRetries` with the provider's message.
 */
export async function* streamWithRetry(
  model: Model,
  request: ModelRequest,
  options: { signal?: AbortSignal; policy?: RetryPolicy; random?: () => number } = {},
): AsyncIterable<RetryingStreamPart> {
  const policy = options.policy ?? defaultRetryPolicy;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      yield* model.stream(request, options.signal);
      return;
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const failure =
        error instanceof ModelCallError
          ? error
          : new ModelCallError(String((error as Error)?.message ?? error), {
              retryable: false,
              cause: error,
            });
      if (failure.retryable && (failure.retryAfterMs ?? 0) > policy.maxDelayMs) {
        // Waiting that long inside a run helps nobody: say so and stop.
        throw new ModelCallError(
          `${failure.message} (the provider asks to retry after ${Math.ceil(failure.retryAfterMs! / 1000)} s, longer than the ${policy.maxDelayMs / 1000} s agentd waits)`,
          { status: failure.status, retryable: false, cause: failure },
        );
      }
      if (!failure.retryable || attempt >= policy.maxRetries) {
        if (attempt > 0 && failure.retryable) {
          throw new ModelCallError(`${failure.message} (gave up after ${attempt + 1} attempts)`, {
            status: failure.status,
            retryable: false,
            cause: failure,
          });
        }
        throw failure;
      }
      const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt) * random();
      const delayMs = Math.round(Math.max(backoff, failure.retryAfterMs ?? 0));
      yield { type: 'retry', attempt: attempt + 1, delayMs, error: failure };
      await sleep(delayMs, options.signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
