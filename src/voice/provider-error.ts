import { AgentdError } from '../core/errors.ts';

/** A transcription or speech provider's refusal or failure, with whether trying again may help. */
export class VoiceProviderError extends AgentdError {
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(
    message: string,
    options: { status?: number; retryable: boolean; retryAfterMs?: number; cause?: unknown },
  ) {
    super('voice_provider_failed', message, { cause: options.cause });
    this.status = options.status;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** `retry-after` (seconds or an HTTP date) in milliseconds. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The provider's own message from an error body (OpenAI, Mistral and FastAPI shapes). */
export function providerMessage(body: string): string {
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    const error = json.error;
    if (
      error &&
      typeof error === 'object' &&
      typeof (error as { message?: unknown }).message === 'string'
    ) {
      return (error as { message: string }).message;
    }
    if (typeof error === 'string') return error;
    if (typeof json.message === 'string') return json.message;
    if (typeof json.detail === 'string') return json.detail;
    if (Array.isArray(json.detail) && json.detail.length > 0) {
      const first = json.detail[0] as { msg?: unknown };
      if (typeof first?.msg === 'string') return first.msg;
    }
  } catch {
    // not JSON
  }
  return body.trim().split('\n')[0]?.slice(0, 200) || 'no message';
}

/** What a person should do about an HTTP failure of `what` at `provider`. */
export function httpFailure(
  provider: string,
  what: string,
  status: number,
  body: string,
  headers: Headers,
  keyName: string | undefined,
): VoiceProviderError {
  const message = providerMessage(body);
  const retryable = status === 429 || status === 408 || status >= 500;
  const hint =
    status === 401 || status === 403
      ? `: check ${keyName ?? 'the API key'}`
      : status === 400 || status === 415 || status === 422
        ? ': the provider refused the request or the audio (check the file is speech in a format it takes)'
        : '';
  return new VoiceProviderError(`${provider} ${what} failed (HTTP ${status}): ${message}${hint}`, {
    status,
    retryable,
    retryAfterMs: retryAfterMs(headers.get('retry-after')),
  });
}

export interface VoiceRetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const defaultVoiceRetry: VoiceRetryPolicy = {
  maxRetries: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
};

/** Calls `attempt` until it succeeds or fails for good, waiting at least what retry-after asks. */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  policy: VoiceRetryPolicy,
  signal: AbortSignal | undefined,
  onRetry?: (error: VoiceProviderError, delayMs: number) => void,
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof VoiceProviderError) || !error.retryable || signal?.aborted)
        throw error;
      if (n >= policy.maxRetries) {
        throw new VoiceProviderError(`${error.message} (gave up after ${n + 1} attempts)`, {
          ...(error.status !== undefined ? { status: error.status } : {}),
          retryable: false,
        });
      }
      if ((error.retryAfterMs ?? 0) > policy.maxDelayMs) {
        throw new VoiceProviderError(
          `${error.message} (the provider asks to retry after ${Math.ceil(error.retryAfterMs! / 1000)} s, longer than agentd waits)`,
          { retryable: false },
        );
      }
      const backoff = Math.random() * Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** n);
      const delay = Math.max(error.retryAfterMs ?? 0, backoff);
      onRetry?.(error, delay);
      await sleep(delay, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', abort, { once: true });
  });
}
