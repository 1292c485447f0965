import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { AgentdError } from '../core/errors.ts';

/**
 * Parses a YAML file against a schema. Every failure is one line: the file, the field path,
 * the bad value and what is allowed.
 */
export function parseYamlFile<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
): z.output<S> {
  return readableDepth(file, () => parseYamlText(file, text, schema));
}

/**
 * `read()` of a YAML file, with collections nested thousands deep (which exhaust the stack of
 * the YAML library or the schema) one line instead of a stack overflow.
 */
export function readableDepth<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof RangeError) {
      throw new AgentdError(
        'spec_invalid',
        `${file}: invalid YAML: nested too deeply to read (${error.message}); flatten the file`,
      );
    }
    throw error;
  }
}

function parseYamlText<S extends z.ZodType>(file: string, text: string, schema: S): z.output<S> {
  const doc = parseDocument(text, { prettyErrors: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = yamlError.linePos?.[0];
    const where = pos ? `:${pos.line}:${pos.col}` : '';
    const reason = yamlError.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    throw new AgentdError('spec_invalid', `${file}${where}: invalid YAML: ${reason}`);
  }
  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (error) {
    // an alias to no anchor, or so many aliases that expanding them would exhaust memory
    throw new AgentdError(
      'spec_invalid',
      `${file}: invalid YAML: ${(error as Error).message.split('\n')[0]}`,
    );
  }
  // A file is read once: no compiling the schema's fast path for it (zod's JIT costs more
  // than it saves on one parse, and start-up is most of a short command).
  const parsed = schema.safeParse(data, { jitless: true });
  if (parsed.success) return parsed.data;
  throw new AgentdError('spec_invalid', `${file}: ${describeIssue(parsed.error.issues[0]!, data)}`);
}

/** Why `data` does not fit `schema`, in one line naming the field and value; undefined when it fits. */
export function schemaIssue(schema: z.ZodType, data: unknown): string | undefined {
  const parsed = schema.safeParse(data, { jitless: true });
  return parsed.success ? undefined : describeIssue(parsed.error.issues[0]!, data);
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): string {
  const path = issue.path.map(String).join('.');
  const value = valueAt(data, issue.path);
  const where = path ? `${path}: ` : '';
  switch (issue.code) {
    case 'invalid_type':
      if (value === undefined) return `${where}is required (expected ${issue.expected})`;
      return `${where}expected ${issue.expected}, got ${show(value)}`;
    case 'invalid_value':
      return `${where}${show(value)} is not allowed (use one of: ${issue.values.map((v) => String(v)).join(', ')})`;
    case 'unrecognized_keys':
      return `${where}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'custom':
      return `${where}${issue.message}`;
    case 'invalid_union': {
      // A discriminated union: the discriminator has a value none of its branches takes.
      const options = (issue as { options?: unknown[] }).options;
      if (issue.errors.length === 0 && Array.isArray(options)) {
        return value === undefined
          ? `${where}is required (one of: ${options.map(String).join(', ')})`
          : `${where}${show(value)} is not allowed (use one of: ${options.map(String).join(', ')})`;
      }
      // The branch the value was meant for is the one that did not fail on its type.
      const branch =
        issue.errors.find((issues) => issues.some((i) => i.code !== 'invalid_type')) ??
        issue.errors[0];
      const inner = branch?.find((i) => i.code !== 'invalid_type') ?? branch?.[0];
      if (inner) return describeIssue({ ...inner, path: [...issue.path, ...inner.path] }, data);
      return `${where}${issue.message}`;
    }
    default:
      return `${where}${issue.message}${value !== undefined && typeof value !== 'object' ? ` (got ${show(value)})` : ''}`;
  }
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current = data;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function show(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
