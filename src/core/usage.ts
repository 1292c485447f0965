/** Token counts as providers report them. `inputTokens` includes cached tokens. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from the provider's prompt cache (billed at the cached price). */
  cachedInputTokens: number;
  /** Input tokens written to the provider's prompt cache (billed at the cache-write price). */
  cacheWriteTokens: number;
  /** Output tokens spent on reasoning (already counted in outputTokens). */
  reasoningTokens: number;
}

export const zeroUsage: Usage = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
});

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cachedInputTokens: a.cachedInputTokens + b.cachedInputTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
  };
}
