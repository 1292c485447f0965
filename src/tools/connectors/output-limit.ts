/**
 * Collects a stream's bytes up to a limit: what fits is kept, the rest is counted and
 * dropped, so a command or response that floods cannot grow memory.
 */
export class OutputLimit {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** Every byte seen, kept or not. */
  total = 0;
  /** True once a byte had to be dropped. */
  truncated = false;

  readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Keeps what fits of `chunk`; returns false once anything was dropped. */
  push(chunk: Buffer): boolean {
    this.total += chunk.length;
    const room = this.maxBytes - this.kept;
    if (chunk.length > room) {
      if (room > 0) this.chunks.push(chunk.subarray(0, room));
      this.kept = this.maxBytes;
      this.truncated = true;
      return false;
    }
    this.chunks.push(chunk);
    this.kept += chunk.length;
    return true;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.kept);
  }

  /** The kept bytes as UTF-8 text. */
  text(): string {
    return this.bytes().toString('utf8');
  }
}
