import type { Context } from 'hono';
import type { z } from 'zod';

/**
 * A request's JSON body checked against `schema`: the value, or one line naming the field and
 * what is wrong. An empty body reads as `{}`.
 */
export async function jsonBody<T>(
  c: Context,
  schema: z.ZodType<T>,
): Promise<{ value: T } | { error: string }> {
  const text = await c.req.text();
  let raw: unknown = {};
  if (text.trim()) {
    try {
      raw = JSON.parse(text);
    } catch {
      return { error: 'the body is not JSON' };
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { error: `${issue.path.join('.') || 'body'}: ${issue.message}` };
  }
  return { value: parsed.data };
}
