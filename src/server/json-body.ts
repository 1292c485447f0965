import type { Context } from 'hono';
import type { z } from 'zod';

/**
 * A request's JSON body checked against `schema`, or one line saying what is wrong (`field:
 * message`, or that it is not JSON). With `emptyIsObject`, an empty body counts as `{}`.
 */
export async function jsonBody<T>(
  c: Context,
  schema: z.ZodType<T>,
  options: { emptyIsObject?: boolean } = {},
): Promise<{ value: T } | { error: string }> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    if (!(options.emptyIsObject && c.req.header('content-length') === '0')) {
      return { error: 'the body is not JSON' };
    }
    raw = {};
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { error: `${issue.path.join('.') || 'body'}: ${issue.message}` };
  }
  return { value: parsed.data };
}
