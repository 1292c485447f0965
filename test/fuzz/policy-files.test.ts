import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Decision } from '../../src/policy/authorizer.ts';
import { checkPolicySet } from '../../src/policy/load.ts';
import { manifestsOf } from '../../src/policy/manifests.ts';
import { maxPolicyChain, maxPolicyNesting } from '../../src/policy/policy-depth.ts';
import { formatProblem } from '../../src/policy/policy-set.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import { originOf } from '../../src/tools/tool-origin.ts';
import { policyFor, writePolicies } from '../policy/support.ts';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

/**
 * Policy files, random and hostile: deep nesting of every bracket, long operator and
 * attribute chains, nested ifs, huge literals, unicode, NULs, truncated policies and valid
 * policies with any of these spliced in. Property: checking ends in problems of one line each
 * (file:line:col) or a valid set, never a throw; and the Cedar engine still decides afterwards
 * (a policy nested ~120 deep used to break the engine for every later call in the process).
 * AGENTD_FUZZ_RUNS for a longer budget, AGENTD_FUZZ_SEED to replay one.
 */
const runs = Number(process.env.AGENTD_FUZZ_RUNS ?? 40);
const seed = process.env.AGENTD_FUZZ_SEED ? Number(process.env.AGENTD_FUZZ_SEED) : 20261207;

const lookup = defineTool({
  name: 'lookup',
  description: 'Look a word up.',
  input: z.object({ query: z.string() }),
  execute: () => 'found',
});
const valid = '@id("lookups")\npermit(principal, action == Action::"lookup", resource);\n';
const when = (body: string) =>
  `permit(principal, action == Action::"lookup", resource) when { ${body} };\n`;

const nest = (open: string, inner: string, close: string) => (n: number) =>
  when(`${open.repeat(n)}${inner}${close.repeat(n)}`);
const chain =
  (piece: string, join: string, tail = '') =>
  (n: number) =>
    when(`${Array(n).fill(piece).join(join)}${tail}`);

const deep: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 60, max: 5000 }).map(nest('(', 'true', ')')),
  fc
    .integer({ min: 60, max: 5000 })
    .map((n) => when(`${'['.repeat(n)}1${']'.repeat(n)}.contains(1)`)),
  fc.integer({ min: 60, max: 5000 }).map((n) => when(`${'{a:'.repeat(n)}1${'}'.repeat(n)} == {}`)),
  fc.integer({ min: 200, max: 20_000 }).map(chain('true', ' && ')),
  fc.integer({ min: 200, max: 20_000 }).map(chain('1', ' + ', ' == 1')),
  fc.integer({ min: 200, max: 20_000 }).map((n) => when(`principal${'.a'.repeat(n)} == 1`)),
  fc
    .integer({ min: 200, max: 5000 })
    .map((n) => when(`${'if true then '.repeat(n)}true${' else false'.repeat(n)}`)),
  fc.integer({ min: 200, max: 20_000 }).map((n) => when(`${'!'.repeat(n)}true`)),
  // The worst the limits let through, together.
  fc.constant(
    when(
      `${'('.repeat(maxPolicyNesting - 1)}${Array(maxPolicyChain / 2)
        .fill('true')
        .join(' && ')}${')'.repeat(maxPolicyNesting - 1)}`,
    ),
  ),
  fc.constant(
    when(`${'if true then '.repeat(maxPolicyChain)}true${' else false'.repeat(maxPolicyChain)}`),
  ),
);
const odd: fc.Arbitrary<string> = fc.oneof(
  fc
    .integer({ min: 10_000, max: 2_000_000 })
    .map((n) => when(`context.input.query == "${'a'.repeat(n)}"`)),
  fc.integer({ min: 1000, max: 100_000 }).map((n) => `@reason("${'r'.repeat(n)}")\n${valid}`),
  fc.constantFrom(
    'permit(principal, action, resource',
    'permit(',
    '@id("x")',
    'forbid(principal, action, resource) when { "unterminated };',
    '// only a comment',
    '\u0000\u0000',
    'permit(principal, action, resource) when { "nul\u0000" == "x" };',
    '\uFEFFpermit(principal, action, resource);',
    'permit(principal, action == Action::"lookup", resource) when { context.input.query == "\uD800" };',
    'permit(principal, action == Action::"lookup", resource) when { context.input.query like "*\u202E*" };',
    'permit(principal, action == Action::"lóokup", resource);',
    'permit(?principal, action, resource);',
    '@mode("sometimes")\npermit(principal, action, resource);',
    '@approval("required")\nforbid(principal, action, resource);',
    `${valid}${valid}`,
    'permit(principal, action, resource) unless { ((((((((((( };',
    ')))))))]]]]]]}}}}}',
    '"\\"\\"\\"(((((("',
  ),
  fc.string({ maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc.string({
    unit: fc.constantFrom(
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      '"',
      '\\',
      '/',
      ';',
      '.',
      ' ',
      'a',
      '&',
      '\n',
    ),
    maxLength: 2000,
  }),
);
const hostile: fc.Arbitrary<string> = fc.oneof(
  deep,
  odd,
  fc.tuple(fc.oneof(deep, odd), fc.nat()).map(([piece, at]) => {
    const cut = at % (valid.length + 1);
    return `${valid.slice(0, cut)}${piece}${valid.slice(cut)}`;
  }),
  fc
    .tuple(fc.oneof(deep, odd), fc.nat())
    .map(([piece, at]) => piece.slice(0, at % (piece.length + 1))),
);

describe('fuzzing policy files', () => {
  it('every file checks to one-line problems or a valid set, and the engine still decides', async () => {
    const dir = tempDir();
    const manifests = manifestsOf([lookup]);
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(hostile, async (text) => {
        const policies = writePolicies(dir, { 'a.cedar': text });
        const checked = await checkPolicySet(policies, manifests);
        for (const problem of checked.problems) {
          const line = formatProblem(problem);
          expect(line).toMatch(/^policies\/a\.cedar:\d+:\d+: |a\.cedar:\d+:\d+: /);
          expect(line).not.toContain('\n');
        }
        if (checked.problems.some((p) => p.severity === 'error')) rejected++;
      }),
      { numRuns: runs, seed },
    );
    expect(rejected).toBeGreaterThan(0);
    const authorizer = await policyFor(tempDir(), { 'ok.cedar': valid }, { tools: [lookup] });
    const decision = (await authorizer.authorize({
      origin: originOf(lookup),
      toolName: 'lookup',
      input: { query: 'a' },
      rawInput: { query: 'a' },
    })) as Decision;
    expect(decision).toMatchObject({ decision: 'allow', policies: ['lookups'] });
  }, 120_000);

  it('regression: 1,000 nested parentheses are refused at their place, and the engine still works', async () => {
    const dir = tempDir();
    const text = `${valid}\n${nest('(', 'true', ')')(1000)}`;
    const checked = await checkPolicySet(
      writePolicies(dir, { 'deep.cedar': text }),
      manifestsOf([lookup]),
    );
    expect(checked.problems.map(formatProblem)).toEqual([
      expect.stringMatching(
        /deep\.cedar:4:127: policy nests brackets, parentheses or braces more than 64 deep; write the condition flatter or split it into several policies$/,
      ),
    ]);
    const authorizer = await policyFor(tempDir(), { 'ok.cedar': valid }, { tools: [lookup] });
    expect(
      await authorizer.authorize({
        origin: originOf(lookup),
        toolName: 'lookup',
        input: { query: 'a' },
        rawInput: { query: 'a' },
      }),
    ).toMatchObject({ decision: 'allow' });
  });

  it('agentd policy validate says one line for a deep policy, exit 1 or 2, no stack', async () => {
    const dir = tempDir();
    const policies = writePolicies(dir, {
      'deep.cedar': when(`principal${'.a'.repeat(5000)} == 1`),
    });
    writeFileSync(
      join(dir, 'agent.yaml'),
      'name: reader\nmodel: scripted/r\nscript: ./script.yaml\ntools: [fs.read]\n',
    );
    writeFileSync(join(dir, 'script.yaml'), 'turns:\n  - text: "done"\n');
    const result = await agentd(['policy', 'validate', policies, '--agent', 'agent.yaml'], {
      cwd: dir,
      home: join(dir, 'home'),
    });
    expect(result.code).not.toBe(0);
    const out = `${result.stdout}${result.stderr}`;
    expect(out).toMatch(
      /deep\.cedar:1:\d+: policy has more than 256 operators and attribute accesses; split it into several policies/,
    );
    expect(out).not.toMatch(/internal error|\n\s+at /);
  }, 60_000);
});
