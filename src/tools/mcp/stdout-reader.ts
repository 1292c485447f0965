import { deserializeMessage, type JSONRPCMessage } from '@modelcontextprotocol/client';

/** Why a server's stdout was given up on. */
export type StdoutFloodKind =
  /** A line (one message) grew past the limit without ending. */
  | 'line'
  /** Past the limit of bytes that were not JSON-RPC messages since the last one that was. */
  | 'garbage';

export interface StdoutFlood {
  kind: StdoutFloodKind;
  /** The limit, in bytes, that was passed. */
  limit: number;
}

export interface StdoutLimits {
  /** Longest line (one JSON-RPC message) in bytes. */
  maxLineBytes: number;
  /** Most bytes of lines that are not JSON-RPC messages, between two that are. */
  maxGarbageBytes: number;
}

export interface StdoutRead {
  messages: JSONRPCMessage[];
  /** Lines that were JSON but not a JSON-RPC message (the parse error of each). */
  invalid: Error[];
  /** Set once a limit was passed; the reader takes nothing more after it. */
  flood?: StdoutFlood;
}

const newline = 0x0a;

/**
 * Splits a server's stdout into JSON-RPC messages, one a line, holding at most one line's limit
 * of bytes however the server writes. A line longer than the limit, or more garbage (lines that
 * are not JSON-RPC: logs, banners, noise) than the limit between two messages, ends the reading:
 * the caller stops the server. Blank lines count as garbage, so a torrent of newlines ends too.
 * Chunks of a partial line are kept as they came and joined once, when the line ends, so a long
 * line costs its length, not its length times its chunks.
 */
export class StdoutReader {
  readonly limits: StdoutLimits;
  #partial: Buffer[] = [];
  #partialBytes = 0;
  #garbage = 0;
  #flood: StdoutFlood | undefined;
  #peak = 0;

  constructor(limits: StdoutLimits) {
    this.limits = limits;
  }

  /** Bytes of an unfinished line held now. */
  get held(): number {
    return this.#partialBytes;
  }

  /** The most bytes of an unfinished line ever held (never more than the line limit). */
  get peakHeld(): number {
    return this.#peak;
  }

  get flood(): StdoutFlood | undefined {
    return this.#flood;
  }

  push(chunk: Buffer): StdoutRead {
    const read: StdoutRead = { messages: [], invalid: [] };
    if (this.#flood) return { ...read, flood: this.#flood };
    let start = 0;
    while (start < chunk.length) {
      const end = chunk.indexOf(newline, start);
      const stop = end === -1 ? chunk.length : end;
      if (this.#partialBytes + (stop - start) > this.limits.maxLineBytes) {
        return this.#floodWith(read, { kind: 'line', limit: this.limits.maxLineBytes });
      }
      if (end === -1) {
        this.#partial.push(chunk.subarray(start));
        this.#partialBytes += chunk.length - start;
        this.#peak = Math.max(this.#peak, this.#partialBytes);
        break;
      }
      const piece = chunk.subarray(start, end);
      const line = this.#partial.length === 0 ? piece : Buffer.concat([...this.#partial, piece]);
      this.#partial = [];
      this.#partialBytes = 0;
      start = end + 1;
      if (!this.#take(line, read)) {
        this.#garbage += line.length + 1;
        if (this.#garbage > this.limits.maxGarbageBytes) {
          return this.#floodWith(read, { kind: 'garbage', limit: this.limits.maxGarbageBytes });
        }
      }
    }
    return read;
  }

  /** Forgets what is held (the process is gone). */
  clear(): void {
    this.#partial = [];
    this.#partialBytes = 0;
    this.#garbage = 0;
  }

  /** Whether the line was a JSON-RPC message (added to `read`). */
  #take(line: Buffer, read: StdoutRead): boolean {
    const text = line.toString('utf8').replace(/\r$/, '');
    if (!text.trim()) return false;
    let parsed: JSONRPCMessage;
    try {
      parsed = deserializeMessage(text);
    } catch (error) {
      if (!(error instanceof SyntaxError)) {
        read.invalid.push(error instanceof Error ? error : new Error(String(error)));
      }
      return false;
    }
    this.#garbage = 0;
    read.messages.push(parsed);
    return true;
  }

  #floodWith(read: StdoutRead, flood: StdoutFlood): StdoutRead {
    this.#flood = flood;
    this.clear();
    return { ...read, flood };
  }
}

/**
 * Splits a stream of text (a server's stderr) into lines, holding at most `maxLineBytes` of an
 * unfinished one: a longer line is handed on cut at the limit, and the rest of it dropped.
 */
export class BoundedLines {
  readonly #max: number;
  #partial = '';
  #dropping = false;

  constructor(maxLineBytes: number) {
    this.#max = maxLineBytes;
  }

  push(text: string): string[] {
    const lines = text.split('\n');
    const last = lines.pop() ?? '';
    const out: string[] = [];
    for (const line of lines) {
      if (!this.#dropping) out.push((this.#partial + line).slice(0, this.#max));
      this.#partial = '';
      this.#dropping = false;
    }
    if (this.#dropping) return out;
    this.#partial += last;
    if (this.#partial.length > this.#max) {
      out.push(this.#partial.slice(0, this.#max));
      this.#partial = '';
      this.#dropping = true;
    }
    return out;
  }

  /** Characters of an unfinished line held now. */
  get held(): number {
    return this.#partial.length;
  }
}
