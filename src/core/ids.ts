import { randomBytes } from 'node:crypto';

const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * A short, time-ordered id: `prefix_` + 10 chars of milliseconds + 12 random chars
 * (Crockford base32, lowercase). Ids sort by creation time, so `runs list` order is free.
 */
export function newId(prefix: string, now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = alphabet[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(12);
  let rand = '';
  for (const byte of bytes) rand += alphabet[byte % 32];
  return `${prefix}_${time}${rand}`;
}
