/** How soon a server that died is started again. */
export interface RestartPolicy {
  /** The wait after the first failure in a row. */
  baseDelayMs: number;
  /** The longest wait, however many failures came before. */
  maxDelayMs: number;
}

export const defaultRestartPolicy: RestartPolicy = { baseDelayMs: 250, maxDelayMs: 30_000 };

/**
 * The wait before the next start after `failures` crashes or failed starts in a row:
 * none before the first, then doubling from the base, never above the maximum.
 */
export function restartDelay(
  failures: number,
  policy: RestartPolicy = defaultRestartPolicy,
): number {
  if (failures <= 0) return 0;
  const exponent = Math.min(failures - 1, 30);
  return Math.min(policy.baseDelayMs * 2 ** exponent, policy.maxDelayMs);
}
