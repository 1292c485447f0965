import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { canonicalJson, sha256 } from '../core/canonical-json.ts';
import { AgentdError } from '../core/errors.ts';
import type { Cedar, DetailedError, PolicyJson, SchemaJson } from './cedar.ts';
import { policyDepthProblem } from './policy-depth.ts';

/** A problem in a policy file, at a place in it. */
export interface PolicyProblem {
  file: string;
  line: number;
  column: number;
  message: string;
  severity: 'error' | 'warning';
}

/** `file:line:col: message`, the way compilers and editors show it. */
export function formatProblem(problem: PolicyProblem): string {
  return `${problem.file}:${problem.line}:${problem.column}: ${problem.severity === 'warning' ? 'warning: ' : ''}${problem.message}`;
}

export type PolicyMode = 'enforce' | 'log_only';

/** One policy of a set, with where it is written. */
export interface Policy {
  /** Its `@id("...")`, or `file:line` where it starts. */
  id: string;
  file: string;
  line: number;
  column: number;
  text: string;
  effect: 'permit' | 'forbid';
  /** `@mode("log_only")`: its effect is recorded, never applied. */
  mode: PolicyMode;
  /** `@reason("...")`: said to the model and in the audit when it denies. */
  reason?: string;
  /** `@approval("required")` on a permit: a call it allows waits for a person's yes. */
  approval?: 'required';
  json: PolicyJson;
}

export interface PolicyFile {
  /** As shown in messages: relative to the current folder when inside it. */
  display: string;
  text: string;
}

/** The `.cedar` files of a folder, in name order. */
export function readPolicyDir(dir: string): PolicyFile[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) {
      throw new AgentdError('policy_invalid', `${dir}: is not a folder of .cedar policy files`);
    }
    names = readdirSync(dir)
      .filter((name) => name.endsWith('.cedar'))
      .sort();
  } catch (error) {
    if (error instanceof AgentdError) throw error;
    throw new AgentdError(
      'policy_invalid',
      `${dir}: policy folder not found (create it with .cedar files, or fix policy.dir in the spec)`,
    );
  }
  return names.map((name) => {
    const path = join(dir, name);
    return { display: displayPath(path), text: readFileSync(path, 'utf8') };
  });
}

export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** Policies parsed from files, with every problem found on the way. */
export interface ParsedPolicies {
  policies: Policy[];
  problems: PolicyProblem[];
}

/**
 * Parses policy files: syntax, one policy at a time with its place, its id (`@id` or
 * `file:line`, unique in the set), its mode and reason annotations. Templates are refused.
 */
export function parsePolicies(cedar: Cedar, files: readonly PolicyFile[]): ParsedPolicies {
  const policies: Policy[] = [];
  const problems: PolicyProblem[] = [];
  const ids = new Map<string, Policy>();
  for (const file of files) {
    // Before Cedar sees it: text nested too deep would break the engine for the whole process.
    const tooDeep = depthProblemOf(file);
    if (tooDeep) {
      problems.push(tooDeep);
      continue;
    }
    const checked = cedar.checkParsePolicySet({ staticPolicies: file.text });
    if (checked.type === 'failure') {
      problems.push(...checked.errors.flatMap((e) => problemsOf(file, e, 0)));
      continue;
    }
    const split = cedar.policySetTextToParts(file.text);
    if (split.type === 'failure') {
      problems.push(...split.errors.flatMap((e) => problemsOf(file, e, 0)));
      continue;
    }
    let cursor = 0;
    for (const template of split.policy_templates) {
      const at = Math.max(0, file.text.indexOf(template));
      problems.push(
        problemAt(
          file,
          at,
          'templates (?principal, ?resource) are not supported yet; name the entity in the policy',
        ),
      );
    }
    for (const part of split.policies) {
      const found = file.text.indexOf(part, cursor);
      const offset = found === -1 ? cursor : found;
      if (found !== -1) cursor = found + part.length;
      const { line, column } = position(file.text, offset);
      const converted = cedar.policyToJson(part);
      if (converted.type === 'failure') {
        problems.push(...converted.errors.flatMap((e) => problemsOf(file, e, offset)));
        continue;
      }
      const json = converted.json;
      const annotations = json.annotations ?? {};
      const mode = annotations.mode ?? 'enforce';
      if (mode !== 'enforce' && mode !== 'log_only') {
        problems.push(
          problemAt(file, offset, `@mode("${mode}") is not a mode (use "enforce" or "log_only")`),
        );
        continue;
      }
      const approval = annotations.approval;
      if (approval !== undefined && approval !== 'required') {
        problems.push(
          problemAt(
            file,
            offset,
            `@approval("${approval}") is not an approval setting (write @approval("required"))`,
          ),
        );
        continue;
      }
      if (approval !== undefined && json.effect !== 'permit') {
        problems.push(
          problemAt(
            file,
            offset,
            '@approval("required") belongs on a permit: a forbid denies, there is nothing to approve',
          ),
        );
        continue;
      }
      const id = annotations.id ?? `${file.display}:${line}`;
      const policy: Policy = {
        id,
        file: file.display,
        line,
        column,
        text: part,
        effect: json.effect,
        mode,
        json,
        ...(annotations.reason ? { reason: annotations.reason } : {}),
        ...(approval ? { approval } : {}),
      };
      const clash = ids.get(id);
      if (clash) {
        problems.push(
          problemAt(
            file,
            offset,
            `policy id "${id}" is already used at ${clash.file}:${clash.line}; ids must be unique`,
          ),
        );
        continue;
      }
      ids.set(id, policy);
      policies.push(policy);
    }
  }
  return { policies, problems };
}

/**
 * Checks policy files against a schema (Cedar's strict validation): unknown actions, entity
 * types and attributes, type errors, optional attributes used without `has`.
 */
export function validatePolicies(
  cedar: Cedar,
  files: readonly PolicyFile[],
  schema: SchemaJson<string>,
): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const file of files) {
    const tooDeep = depthProblemOf(file);
    if (tooDeep) {
      problems.push(tooDeep);
      continue;
    }
    const answer = cedar.validate({
      schema,
      policies: { staticPolicies: file.text },
      validationSettings: { mode: 'strict' },
    });
    if (answer.type === 'failure') {
      problems.push(...answer.errors.flatMap((e) => problemsOf(file, e, 0)));
      continue;
    }
    for (const { error } of answer.validationErrors) problems.push(...problemsOf(file, error, 0));
    for (const { error } of answer.validationWarnings) {
      problems.push(
        ...problemsOf(file, error, 0).map((p) => ({ ...p, severity: 'warning' as const })),
      );
    }
  }
  return problems;
}

/** A content hash of a policy set and the schema it holds for. */
export function policySetVersion(policies: readonly Policy[], schemaVersion: string): string {
  return sha256(
    canonicalJson({ schema: schemaVersion, policies: policies.map((p) => [p.id, p.mode, p.text]) }),
  );
}

/** The depth guard's problem with a file, at its place, if it has one. */
function depthProblemOf(file: PolicyFile): PolicyProblem | undefined {
  const found = policyDepthProblem(file.text);
  if (!found) return undefined;
  return problemAt(
    file,
    Buffer.byteLength(file.text.slice(0, found.offset), 'utf8'),
    found.message,
  );
}

function problemsOf(file: PolicyFile, error: DetailedError, base: number): PolicyProblem[] {
  const location = error.sourceLocations?.[0];
  const label = location?.label ? `: ${location.label}` : '';
  const help = error.help ? ` (${error.help})` : '';
  const message = `${cleanMessage(error.message)}${label}${help}`;
  const out = [problemAt(file, base + (location?.start ?? 0), message)];
  // A parse error's related errors are the other places it found wrong.
  for (const related of error.related ?? []) {
    const at = related.sourceLocations?.[0];
    if (!at) continue;
    out.push(
      problemAt(
        file,
        base + at.start,
        `${cleanMessage(related.message)}${at.label ? `: ${at.label}` : ''}`,
      ),
    );
  }
  return out;
}

/** Cedar says "for policy `policy3`, ..." about ids it made up; the place says which. */
function cleanMessage(message: string): string {
  return message
    .replace(/^for policy `policy\d+`, /, '')
    .replace(/^failed to parse policies from string: /, '');
}

function problemAt(file: PolicyFile, byteOffset: number, message: string): PolicyProblem {
  const { line, column } = position(file.text, byteOffset, true);
  return { file: file.display, line, column, message, severity: 'error' };
}

/** Line and column (1-based) of an offset: Cedar counts UTF-8 bytes; `indexOf` counts chars. */
function position(text: string, offset: number, bytes = false): { line: number; column: number } {
  const before = bytes
    ? Buffer.from(text, 'utf8').subarray(0, offset).toString('utf8')
    : text.slice(0, offset);
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}
