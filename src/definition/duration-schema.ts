import { z } from 'zod';
import { parseDuration } from '../core/duration.ts';

/** A duration as specs write it (`90s`, `30m`, `2h`, or a number of seconds), in milliseconds. */
export const durationSchema = z
  .union([z.number().positive(), z.string()])
  .transform((value, ctx) => {
    const ms = typeof value === 'number' ? value * 1000 : parseDuration(value);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({
        code: 'custom',
        message: `"${value}" is not a duration (write e.g. 90s, 30m, 2h, or a number of seconds)`,
      });
      return z.NEVER;
    }
    return ms;
  });
