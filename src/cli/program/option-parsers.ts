import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../../core/duration.ts';

// Parsers of option values: a bad value is one line naming it and what is allowed.

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    throw new InvalidArgumentError(`"${value}" is not a positive whole number`);
  }
  return n;
}

export function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new InvalidArgumentError(`"${value}" is not a whole number from 0`);
  }
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new InvalidArgumentError(`"${value}" is not a port (0 to 65535)`);
  }
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`"${value}" is not a positive number`);
  return n;
}

export function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0) {
    throw new InvalidArgumentError(`"${value}" is not a duration (e.g. 90s, 30m, 2h)`);
  }
  return ms;
}

export function unitScore(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`"${value}" is not a score from 0 to 1`);
  }
  return n;
}

/** A repeatable option's values, in order. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
