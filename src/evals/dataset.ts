import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration } from '../core/duration.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';
import { type Limits, type RunEvent, type RunStatus, runStatuses } from '../core/events.ts';
import type { JsonValue } from '../core/messages.ts';
import { checkTags } from '../core/run-tags.ts';
import { durationSchema } from '../definition/duration-schema.ts';
import { environmentSpec, environmentSpecSchema } from '../definition/environment-spec.ts';
import { schemaIssue } from '../definition/yaml-file.ts';
import type { RunSummary, Store } from '../store/store.ts';
import { answerOf } from './evaluators/common.ts';
import { isFinished, runRecord } from './run-record.ts';
import type { Assertion, EvalCase, ExpectedCall } from './types.ts';

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

const regex = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    try {
      new RegExp(value, 'u');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `not a regular expression: ${errorMessage(error)}` });
    }
  });

export const assertionSchema: z.ZodType<Assertion> = z.union([
  z.string().min(1),
  z.strictObject({ contains: z.string().min(1) }),
  z.strictObject({ not_contains: z.string().min(1) }),
  z.strictObject({ regex }),
  z.strictObject({ tool_called: z.string().min(1) }),
  z.strictObject({ tool_not_called: z.string().min(1) }),
]);

const expectedCallSchema = z.strictObject({
  tool: z.string().min(1),
  input: z.record(z.string(), jsonValue).optional(),
});

/** Budgets as specs and suites write them (`max_time: 2m`). */
export const budgetSchema = z.strictObject({
  max_turns: z.int().positive().optional(),
  max_tokens: z.int().positive().optional(),
  max_cost_usd: z.number().positive().optional(),
  max_time: durationSchema.optional(),
});

export function budgetLimits(budget: z.output<typeof budgetSchema> | undefined): Partial<Limits> {
  const limits: Partial<Limits> = {};
  if (!budget) return limits;
  if (budget.max_turns !== undefined) limits.maxTurns = budget.max_turns;
  if (budget.max_tokens !== undefined) limits.maxTokens = budget.max_tokens;
  if (budget.max_cost_usd !== undefined) limits.maxCostUsd = budget.max_cost_usd;
  if (budget.max_time !== undefined) limits.maxTimeMs = budget.max_time;
  return limits;
}

/** One line of a dataset. */
export const caseSchema = z.strictObject({
  id: z.string().min(1).max(200).optional(),
  input: z.string().min(1).optional(),
  /** `environment`: an episode of the agent's environment (seed, goal, step limit), scored on it. */
  kind: z.enum(['task', 'environment']).optional(),
  /** The environment of an episode, when not the agent's own. */
  environment: environmentSpecSchema.optional(),
  seed: z.int().min(0).optional(),
  goal: z.string().min(1).optional(),
  max_steps: z.int().positive().max(10_000).optional(),
  expected_response: z.string().optional(),
  expected_trajectory: z.array(expectedCallSchema).optional(),
  assertions: z.array(assertionSchema).optional(),
  tags: z.array(z.string().min(1)).optional(),
  agent: z.string().min(1).optional(),
  budget: budgetSchema.optional(),
  source_run: z.string().optional(),
  /** A folder the case runs in, relative to the dataset: each trial works in a fresh copy. */
  workdir: z.string().min(1).optional(),
  /** The scripted replay for this case, relative to the dataset (when the agent replays one). */
  script: z.string().min(1).optional(),
  /** How the case's person answers approval requests (default: nobody answers). */
  approvals: z.enum(['approve', 'deny']).optional(),
  /** Anything else a team keeps with a case; agentd carries it along. */
  metadata: z.record(z.string(), jsonValue).optional(),
});

/**
 * Reads a JSONL dataset: one case a line, blank lines skipped. A bad line is a one-line
 * error naming `file:line`, the field and what is wrong. A case without an id is named
 * `<file name>-<line>`.
 */
export function loadDataset(path: string, shownAs = path): EvalCase[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AgentdError(
      'spec_not_found',
      code === 'ENOENT'
        ? `${shownAs}: dataset not found (check the path; datasets are JSONL files, one case a line)`
        : `${shownAs}: cannot read the dataset: ${errorMessage(error)}`,
    );
  }
  const stem = basename(path, extname(path));
  const cases: EvalCase[] = [];
  const ids = new Map<string, number>();
  const lines = text.split('\n');
  for (const [index, raw] of lines.entries()) {
    const line = index + 1;
    const where = `${shownAs}:${line}`;
    if (!raw.trim()) continue;
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch (error) {
      throw new AgentdError(
        'spec_invalid',
        `${where}: not JSON (${errorMessage(error)}); each line is one case, a JSON object`,
      );
    }
    if (!data || typeof data !== 'object' || Array.isArray(data)) {
      throw new AgentdError(
        'spec_invalid',
        `${where}: expected a JSON object with at least "input", got ${Array.isArray(data) ? 'a list' : JSON.stringify(data)}`,
      );
    }
    const issue = schemaIssue(caseSchema, data);
    if (issue) throw new AgentdError('spec_invalid', `${where}: ${issue}`);
    const parsed = caseSchema.parse(data);
    const episode = parsed.kind === 'environment';
    const episodeField = (['environment', 'seed', 'goal', 'max_steps'] as const).find(
      (f) => parsed[f] !== undefined,
    );
    if (!episode && episodeField) {
      throw new AgentdError(
        'spec_invalid',
        `${where}: ${episodeField}: only environment cases have one (add "kind": "environment")`,
      );
    }
    if (!episode && parsed.input === undefined) {
      throw new AgentdError(
        'spec_invalid',
        `${where}: input: is required (the task; only "kind": "environment" cases may leave it for the goal)`,
      );
    }
    const id = parsed.id ?? `${stem}-${line}`;
    const first = ids.get(id);
    if (first !== undefined) {
      throw new AgentdError(
        'spec_invalid',
        `${where}: id "${id}" is already the id of line ${first} (ids must be unique: results are matched by them)`,
      );
    }
    ids.set(id, line);
    const c = fromParsed(parsed, id, where, dirname(resolve(path)));
    for (const [field, kind] of [
      ['workdir', 'folder'],
      ['script', 'file'],
    ] as const) {
      const value = parsed[field];
      if (value === undefined) continue;
      const full = resolve(dirname(path), value);
      const found = existsSync(full) ? statSync(full).isDirectory() : undefined;
      if (found !== (kind === 'folder')) {
        throw new AgentdError(
          'spec_invalid',
          `${where}: ${field}: ${value} is not a ${kind}${found === undefined ? ' (it does not exist)' : ''}; paths are relative to the dataset`,
        );
      }
      c[field] = full;
    }
    cases.push(c);
  }
  return cases;
}

function fromParsed(
  p: z.output<typeof caseSchema>,
  id: string,
  origin: string,
  dir: string,
): EvalCase {
  const c: EvalCase = {
    id,
    input: p.input ?? p.goal ?? p.environment?.goal ?? 'Reach the goal.',
    assertions: p.assertions ?? [],
    tags: p.tags ?? [],
    origin,
  };
  if (p.expected_response !== undefined) c.expectedResponse = p.expected_response;
  if (p.expected_trajectory) c.expectedTrajectory = p.expected_trajectory as ExpectedCall[];
  if (p.agent) c.agent = p.agent;
  if (p.budget) c.budget = budgetLimits(p.budget);
  if (p.source_run) c.sourceRun = p.source_run;
  if (p.metadata) c.metadata = p.metadata;
  if (p.approvals) c.approvals = p.approvals;
  if (p.kind === 'environment') {
    c.episode = {
      ...(p.seed !== undefined ? { seed: p.seed } : {}),
      ...(p.goal !== undefined ? { goal: p.goal } : {}),
      ...(p.max_steps !== undefined ? { max_steps: p.max_steps } : {}),
    };
    if (p.environment) {
      const spec = environmentSpec(p.environment, dir);
      c.episode.spec = { ...spec, ...c.episode };
    }
  }
  return c;
}

/** A case as a dataset line (JSON, no newline). */
export function caseLine(c: EvalCase): string {
  const out: Record<string, unknown> = { id: c.id, input: c.input };
  if (c.expectedResponse !== undefined) out.expected_response = c.expectedResponse;
  if (c.expectedTrajectory) out.expected_trajectory = c.expectedTrajectory;
  if (c.assertions.length) out.assertions = c.assertions;
  if (c.tags.length) out.tags = c.tags;
  if (c.agent) out.agent = c.agent;
  if (c.budget && Object.keys(c.budget).length) {
    const b: Record<string, number> = {};
    if (c.budget.maxTurns !== undefined) b.max_turns = c.budget.maxTurns;
    if (c.budget.maxTokens !== undefined) b.max_tokens = c.budget.maxTokens;
    if (c.budget.maxCostUsd !== undefined) b.max_cost_usd = c.budget.maxCostUsd;
    if (c.budget.maxTimeMs !== undefined) b.max_time = c.budget.maxTimeMs / 1000;
    out.budget = b;
  }
  if (c.sourceRun) out.source_run = c.sourceRun;
  if (c.approvals) out.approvals = c.approvals;
  if (c.metadata) out.metadata = c.metadata;
  if (c.episode) {
    out.kind = 'environment';
    if (c.episode.spec) out.environment = c.episode.spec;
    if (c.episode.seed !== undefined) out.seed = c.episode.seed;
    if (c.episode.goal !== undefined) out.goal = c.episode.goal;
    if (c.episode.max_steps !== undefined) out.max_steps = c.episode.max_steps;
  }
  return JSON.stringify(out);
}

/** Which recorded runs become cases. */
export interface RunFilter {
  agent?: string;
  statuses: RunStatus[];
  /** ISO time: runs created at or after it. */
  since?: string;
  until?: string;
  /** Words the task must contain (case-insensitive). */
  task?: string;
  /** Run id prefixes. */
  ids?: string[];
  /** Tags the run must all have. */
  tags?: string[];
  limit: number;
}

const filterKeys = ['agent', 'status', 'since', 'until', 'task', 'id', 'tag'] as const;

/**
 * `--filter key=value` options as a filter: agent, status (comma-separated), since and
 * until (an ISO date or time, or an age such as 7d, 12h), task (text it contains), id (a
 * prefix; repeatable), tag (a tag the run has; repeatable, all must match). Finished, completed runs only unless status says otherwise.
 */
export function parseRunFilter(
  filters: readonly string[],
  limit: number,
  now = Date.now(),
): RunFilter {
  const filter: RunFilter = { statuses: ['completed'], limit };
  for (const text of filters) {
    const eq = text.indexOf('=');
    const key = text.slice(0, eq);
    const value = text.slice(eq + 1).trim();
    if (eq <= 0 || !(filterKeys as readonly string[]).includes(key) || !value) {
      throw new AgentdError(
        'usage',
        `--filter "${text}": write key=value with key one of ${filterKeys.join(', ')} (e.g. --filter agent=unit-converter --filter since=7d)`,
      );
    }
    switch (key as (typeof filterKeys)[number]) {
      case 'agent':
        filter.agent = value;
        break;
      case 'status': {
        const statuses = value.split(',').map((s) => s.trim());
        const bad = statuses.find(
          (s) => !(runStatuses as readonly string[]).includes(s) || !isFinished(s as RunStatus),
        );
        if (bad !== undefined) {
          throw new AgentdError(
            'usage',
            `--filter status=${value}: "${bad}" is not the status of a finished run (use completed, failed, cancelled, budget_exceeded)`,
          );
        }
        filter.statuses = statuses as RunStatus[];
        break;
      }
      case 'since':
      case 'until':
        filter[key as 'since' | 'until'] = timeOf(value, now, text);
        break;
      case 'task':
        filter.task = value;
        break;
      case 'id':
        filter.ids = [...(filter.ids ?? []), value];
        break;
      case 'tag':
        filter.tags = checkTags([...(filter.tags ?? []), value], `--filter ${text}`);
        break;
    }
  }
  return filter;
}

function timeOf(value: string, now: number, text: string): string {
  const days = /^(\d+(?:\.\d+)?)d$/.exec(value);
  if (days) return new Date(now - Number(days[1]) * 86_400_000).toISOString();
  if (/^\d+(?:\.\d+)?(ms|s|m|h)/.test(value)) {
    const ms = parseDuration(value);
    if (ms !== undefined) return new Date(now - ms).toISOString();
  }
  const at = Date.parse(value);
  if (Number.isNaN(at)) {
    throw new AgentdError(
      'usage',
      `--filter ${text}: "${value}" is not a date or an age (write e.g. 2026-11-01, 2026-11-01T09:00:00Z, 7d or 12h)`,
    );
  }
  return new Date(at).toISOString();
}

/** The recorded runs a filter takes, newest first, with their events. */
export async function* matchingRuns(
  store: Store,
  filter: RunFilter,
): AsyncIterable<{ run: RunSummary; events: RunEvent[] }> {
  for (const run of await store.listRuns({ limit: 100_000 })) {
    if (!filter.statuses.includes(run.status)) continue;
    if (filter.agent && run.agent !== filter.agent) continue;
    if (filter.since && run.createdAt < filter.since) continue;
    if (filter.until && run.createdAt > filter.until) continue;
    if (filter.task && !run.task.toLowerCase().includes(filter.task.toLowerCase())) continue;
    if (filter.ids && !filter.ids.some((prefix) => run.id.startsWith(prefix))) continue;
    if (filter.tags && !filter.tags.every((tag) => run.tags?.includes(tag))) continue;
    yield { run, events: await store.readEvents(run.id) };
  }
}

/**
 * Recorded runs as cases: the task is the input, the final answer the expected response, and
 * the calls that succeeded the expected trajectory (with their arguments) — to review and
 * edit before they become a test. Newest runs first, at most `limit`.
 */
export async function casesFromRuns(store: Store, filter: RunFilter): Promise<EvalCase[]> {
  const cases: EvalCase[] = [];
  for await (const { run, events } of matchingRuns(store, filter)) {
    if (cases.length >= filter.limit) break;
    const record = runRecord(events);
    const c: EvalCase = {
      id: run.id,
      input: record.task,
      expectedTrajectory: record.calls
        .filter((call) => call.output !== undefined && !call.isError)
        .map((call) => {
          const expected: ExpectedCall = { tool: call.name };
          if (call.input && typeof call.input === 'object' && !Array.isArray(call.input)) {
            expected.input = call.input;
          }
          return expected;
        }),
      assertions: [],
      tags: ['from-run'],
      agent: record.agent,
      sourceRun: run.id,
    };
    const answer = answerOf(record);
    if (answer !== undefined) c.expectedResponse = answer;
    cases.push(c);
  }
  return cases;
}
