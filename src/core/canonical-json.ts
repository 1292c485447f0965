import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level and no whitespace (the JSON Canonicalization
 * Scheme, RFC 8785, for the values agentd handles): equal values give equal text, so their
 * digests agree wherever they are computed.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
      return 'null';
    }
    if (typeof value === 'bigint') return value.toString();
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
}

/** SHA-256 of text, as lowercase hex. */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The digest of a value: SHA-256 of its canonical JSON. */
export function digestOf(value: unknown): string {
  return sha256(canonicalJson(value));
}
