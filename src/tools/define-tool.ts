import { z } from 'zod';
import type { JsonValue } from '../core/messages.ts';
import type { JsonSchema } from '../models/model.ts';
import { type Tool, type ToolContext, toJsonValue } from './tool.ts';

export interface ToolDefinitionInput<S extends z.ZodType> {
  name: string;
  description: string;
  input: S;
  idempotent?: boolean;
  checksIdempotencyKey?: boolean;
  execute(input: z.output<S>, context: ToolContext): unknown;
}

const toolName = /^[a-zA-Z0-9_-]{1,64}$/;

/** An in-process tool from a zod schema and a function. */
export function defineTool<S extends z.ZodType>(definition: ToolDefinitionInput<S>): Tool {
  if (!toolName.test(definition.name)) {
    throw new Error(
      `tool name "${definition.name}" must be 1-64 letters, digits, "_" or "-" (providers reject other names)`,
    );
  }
  const inputSchema = z.toJSONSchema(definition.input, {
    target: 'draft-7',
    io: 'input',
  }) as JsonSchema;
  delete inputSchema.$schema;
  return {
    name: definition.name,
    description: definition.description,
    inputSchema,
    idempotent: definition.idempotent ?? false,
    checksIdempotencyKey: definition.checksIdempotencyKey ?? false,
    validate(input) {
      const parsed = definition.input.safeParse(input);
      if (parsed.success) return { ok: true, value: parsed.data };
      return { ok: false, error: formatIssues(parsed.error.issues) };
    },
    async execute(input, context): Promise<JsonValue> {
      return toJsonValue(await definition.execute(input as z.output<S>, context));
    },
  };
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
}
