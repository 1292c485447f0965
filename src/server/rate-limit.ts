/**
 * A token bucket per caller: `perMinute` requests a minute on average, bursts of up to
 * `burst`. `take` answers how long to wait (0 when the request may go now).
 */
export class RateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(perMinute: number, burst = Math.max(1, Math.ceil(perMinute / 6))) {
    this.#perMs = perMinute / 60_000;
    this.#burst = burst;
  }

  /** Milliseconds until a request of `caller` may go; 0 takes a token now. */
  take(caller: string, now = Date.now()): number {
    const bucket = this.#buckets.get(caller) ?? { tokens: this.#burst, at: now };
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    this.#buckets.set(caller, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.#perMs);
  }
}
