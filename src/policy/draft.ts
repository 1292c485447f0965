import type { Message } from '../core/messages.ts';
import { addUsage, type Usage, zeroUsage } from '../core/usage.ts';
import { costOf } from '../models/catalog.ts';
import type { Model, ModelRequest } from '../models/model.ts';
import { streamWithRetry } from '../models/retry.ts';
import { SCRIPTED_PREFIX } from '../models/scripted-model.ts';
import type { Cedar } from './cedar.ts';
import {
  formatProblem,
  type PolicyFile,
  type PolicyProblem,
  parsePolicies,
  validatePolicies,
} from './policy-set.ts';
import type { GeneratedSchema } from './schema.ts';

/** What the model that drafts is told about agentd's policies. */
export const draftInstructions = `You write Cedar policies for agentd, which checks every tool call an AI agent makes against them before the call runs.

Rules of agentd's policies:
- Default deny: a call runs only if a permit allows it and no forbid applies. Forbid wins.
- Principals are Agent::"<agent name>" (attributes: name, user). Actions are the agent's tools, named as in the schema (for example Action::"fs.read"); every tool of a server is in an action group named after the server (action in Action::"fs").
- Resources: File and Dir for the fs connector (attributes path, name, ext; a path is in every Dir above it, so resource in Dir::"src" covers everything under src/), Host for the http connector (host, scheme, port, path), Server::"<name>" for other servers' tools, Module for in-process tools.
- context.input is the call's input, typed as the schema says; test optional attributes with has.
- Give every policy an @id("short-name"). Put @reason("...") on a forbid to say why. Put @approval("required") on a permit when a person must approve each call it allows.
- Use only actions, entity types and attributes that the schema has.

Answer with the policies only, in one \`\`\`cedar block, with a // comment above each policy saying what it does.`;

export interface DraftRequest {
  model: Model;
  cedar: Cedar;
  schema: GeneratedSchema;
  /** The schema in Cedar's text form, as the model is shown it. */
  schemaText: string;
  agent: string;
  requirement: string;
  /** Rounds of feeding problems back to the model (default 2). */
  maxRepairs?: number;
  signal?: AbortSignal;
}

export interface DraftAttempt {
  text: string;
  problems: PolicyProblem[];
}

export interface DraftResult {
  /** The last draft: valid when `problems` has no error. */
  text: string;
  /** How many policies it has. */
  policies: number;
  problems: PolicyProblem[];
  /** Every draft in order; the ones before the last were repaired. */
  attempts: DraftAttempt[];
  usage: Usage;
  costUsd: number | null;
}

/**
 * Asks a model to write policies for a requirement, checks what it wrote against the agent's
 * schema (syntax, then Cedar's strict validation), and, while it is invalid, hands the
 * problems back for a repair, up to `maxRepairs` times. Nothing is written or activated here.
 */
export async function draftPolicies(request: DraftRequest): Promise<DraftResult> {
  const maxRepairs = request.maxRepairs ?? 2;
  const messages: Message[] = [
    {
      role: 'user',
      text: `Write agentd policies for the agent "${request.agent}".\n\nRequirement:\n${request.requirement}\n\nThe Cedar schema of the agent's tools:\n\`\`\`cedarschema\n${request.schemaText.trim()}\n\`\`\``,
    },
  ];
  const attempts: DraftAttempt[] = [];
  let usage = zeroUsage;
  let costUsd: number | null = 0;
  for (let round = 0; round <= maxRepairs; round++) {
    const modelRequest: ModelRequest = {
      instructions: draftInstructions,
      messages,
      tools: [],
      settings: { maxOutputTokens: 4096 },
      turn: round + 1,
    };
    let answer = '';
    for await (const part of streamWithRetry(request.model, modelRequest, {
      signal: request.signal,
    })) {
      if (part.type === 'retry') answer = '';
      else if (part.type === 'text-delta') answer += part.text;
      else if (part.type === 'finish') {
        usage = addUsage(usage, part.usage);
        const cost = costOf(part.usage, request.model.entry?.pricing);
        costUsd = costUsd === null || cost === null ? null : costUsd + cost;
      }
    }
    const text = cedarOf(answer);
    const problems = checkDraft(request.cedar, request.schema, text);
    attempts.push({ text, problems });
    const errors = problems.filter((p) => p.severity === 'error');
    if (errors.length === 0 || round === maxRepairs) {
      const policies = parsePolicies(request.cedar, [{ display: 'draft.cedar', text }]).policies
        .length;
      return { text, policies, problems, attempts, usage, costUsd };
    }
    messages.push(
      { role: 'assistant', text: answer, toolCalls: [] },
      {
        role: 'user',
        text: `agentd checked these policies against the schema and found problems (file:line:column, counted in your policies):\n${errors.map(formatProblem).join('\n')}\n\nWrite the corrected policies in full, in one \`\`\`cedar block.`,
      },
    );
  }
  throw new Error('unreachable');
}

/** The problems of a draft: a file `draft.cedar` of its text, parsed and validated. */
export function checkDraft(cedar: Cedar, schema: GeneratedSchema, text: string): PolicyProblem[] {
  const file: PolicyFile = { display: 'draft.cedar', text };
  const parsed = parsePolicies(cedar, [file]);
  const problems = [...parsed.problems];
  if (problems.length === 0) problems.push(...validatePolicies(cedar, [file], schema.json));
  if (problems.length === 0 && parsed.policies.length === 0) {
    problems.push({
      file: 'draft.cedar',
      line: 1,
      column: 1,
      message: 'there are no policies in the answer',
      severity: 'error',
    });
  }
  return problems.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
}

/** The Cedar in a model's answer: its last ```cedar block, else its last ``` block, else all of it. */
export function cedarOf(answer: string): string {
  const text = answer.startsWith(SCRIPTED_PREFIX) ? answer.slice(SCRIPTED_PREFIX.length) : answer;
  const blocks = [...text.matchAll(/```([a-z]*)[ \t]*\n([\s\S]*?)```/g)];
  const cedar = blocks.filter((b) => b[1] === 'cedar');
  const chosen = (cedar.length ? cedar : blocks).at(-1);
  return `${(chosen ? chosen[2]! : text).trim()}\n`;
}
