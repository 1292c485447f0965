import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Authorizer, Decision } from '../../src/policy/authorizer.ts';
import { loadCedar } from '../../src/policy/cedar.ts';
import { checkPolicySet } from '../../src/policy/load.ts';
import { manifestsOf } from '../../src/policy/manifests.ts';
import { formatProblem } from '../../src/policy/policy-set.ts';
import { generateSchema } from '../../src/policy/schema.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import type { Tool } from '../../src/tools/tool.ts';
import { originOf } from '../../src/tools/tool-origin.ts';
import { tempDir } from '../support/temp-dir.ts';
import { policyFor, writePolicies } from './support.ts';

const lookup = defineTool({
  name: 'lookup',
  description: 'Look a word up.',
  input: z.object({
    query: z.string(),
    limit: z.int().default(10),
    ratio: z.number().optional(),
    exact: z.boolean().default(false),
    tags: z.array(z.string()).default([]),
    headers: z.record(z.string(), z.string()).optional(),
  }),
  execute: () => 'found',
});
const remove = defineTool({
  name: 'remove',
  description: 'Remove a word.',
  input: z.object({ word: z.string() }),
  execute: () => 'removed',
});
const tools = [lookup, remove];

function ask(
  authorizer: Authorizer,
  tool: Tool,
  input: Record<string, unknown>,
): Promise<Decision> {
  const checked = tool.validate(input);
  if (!checked.ok) throw new Error(checked.error);
  return authorizer.authorize({
    origin: originOf(tool),
    toolName: tool.name,
    input: checked.value,
    rawInput: input,
  }) as Promise<Decision>;
}

describe('Cedar policy decisions', () => {
  it('denies by default: no policy, or no policy for this action, permits nothing', async () => {
    const none = await policyFor(tempDir(), {}, { tools });
    const empty = await ask(none, lookup, { query: 'a' });
    expect(empty).toMatchObject({ decision: 'deny', effect: 'deny', policies: [] });
    expect(empty.reason).toBe('no policy permits lookup on Module::"in-process" (default deny)');

    const other = await policyFor(
      tempDir(),
      {
        'a.cedar': 'permit (principal, action == Action::"remove", resource);',
      },
      { tools },
    );
    expect((await ask(other, lookup, { query: 'a' })).decision).toBe('deny');
    const permitted = await ask(other, remove, { word: 'a' });
    expect(permitted.decision).toBe('allow');
    // a policy without @id is named by where it is written
    expect(permitted.policies).toEqual([expect.stringMatching(/policies\/a\.cedar:1$/)]);
  });

  it('forbid wins over any permit, and names the forbidding policy and its reason', async () => {
    const authorizer = await policyFor(
      tempDir(),
      {
        'a.cedar': `@id("all")
permit (principal, action, resource);

@id("no-secret-lookups")
@reason("secrets are not looked up")
forbid (principal, action == Action::"lookup", resource)
when { context.input.query like "*secret*" };
`,
      },
      { tools },
    );
    expect(await ask(authorizer, lookup, { query: 'a word' })).toMatchObject({
      decision: 'allow',
      policies: ['all'],
      reason: 'permitted by all',
    });
    const denied = await ask(authorizer, lookup, { query: 'the secret key' });
    expect(denied).toMatchObject({
      decision: 'deny',
      effect: 'deny',
      policies: ['no-secret-lookups'],
    });
    expect(denied.reason).toBe('forbidden by no-secret-lookups: secrets are not looked up');
    expect(denied.principal).toBe('Agent::"tester"');
    expect(denied.inputDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(denied)).not.toContain('the secret key');
  });

  it('LOG_ONLY records the decision and blocks nothing: a log-only set, and a @mode("log_only") policy', async () => {
    const files = {
      'a.cedar': `@id("read") permit (principal, action == Action::"lookup", resource);`,
    };
    const logOnlySet = await policyFor(tempDir(), files, { tools, mode: 'log_only' });
    expect(await ask(logOnlySet, remove, { word: 'a' })).toMatchObject({
      decision: 'deny',
      effect: 'allow',
      mode: 'log_only',
    });
    expect(await ask(logOnlySet, lookup, { query: 'a' })).toMatchObject({
      decision: 'allow',
      effect: 'allow',
    });

    const shadow = await policyFor(
      tempDir(),
      {
        'a.cedar': `@id("all") permit (principal, action, resource);
@id("tighter") @mode("log_only")
forbid (principal, action == Action::"remove", resource);
@id("looser") @mode("log_only")
permit (principal, action, resource) when { context.input has query };`,
      },
      { tools },
    );
    const removal = await ask(shadow, remove, { word: 'a' });
    expect(removal).toMatchObject({ decision: 'allow', effect: 'allow', policies: ['all'] });
    expect(removal.logOnly).toEqual({ decision: 'deny', policies: ['tighter'] });
    // a log-only permit never allows what the enforced policies deny
    const onlyLooser = await policyFor(
      tempDir(),
      {
        'a.cedar': `@mode("log_only") permit (principal, action, resource);`,
      },
      { tools },
    );
    const looked = await ask(onlyLooser, lookup, { query: 'a' });
    expect(looked).toMatchObject({ decision: 'deny', effect: 'deny' });
    expect(looked.logOnly?.decision).toBe('allow');
  });

  it('rejects invalid policies with file:line:col for every error, and never activates them', async () => {
    const dir = tempDir();
    const policies = writePolicies(dir, {
      'a-good.cedar': 'permit (principal, action == Action::"lookup", resource);\n',
      'b-syntax.cedar':
        '// reads\npermit (principal, action, resource)\nwhen { context.input.query == };\n',
      'c-schema.cedar': [
        'permit (principal, action == Action::"lookupp", resource);',
        'forbid (principal, action == Action::"lookup", resource)',
        '  when { context.input.ratio.greaterThan(decimal("1.0")) };',
        '@mode("sometimes") permit (principal, action, resource);',
        '',
      ].join('\n'),
    });
    const checked = await checkPolicySet(policies, manifestsOf(tools));
    const lines = checked.problems.map((p) =>
      formatProblem({ ...p, file: p.file.replace(/^.*policies\//, '') }),
    );
    expect(lines[0]).toMatch(/^b-syntax\.cedar:3:\d+: unexpected token `}`/);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^c-schema\.cedar:4:1: @mode\("sometimes"\) is not a mode \(use "enforce" or "log_only"\)$/,
      ),
    );
    // a file that parses is checked against the schema, whatever the others hold
    const fixed = writePolicies(dir, {
      'c-schema.cedar': [
        'permit (principal, action == Action::"lookupp", resource);',
        'forbid (principal, action == Action::"lookup", resource)',
        '  when { context.input.ratio.greaterThan(decimal("1.0")) };',
        '',
      ].join('\n'),
    });
    const again = await checkPolicySet(fixed, manifestsOf(tools));
    expect(again.problems.filter((p) => p.file.endsWith('b-syntax.cedar'))).toHaveLength(1);
    const messages = again.problems
      .filter((p) => p.file.endsWith('c-schema.cedar'))
      .map((p) => `${p.line}:${p.column}: ${p.message}`);
    expect(messages).toContainEqual(
      expect.stringMatching(/^1:30: unrecognized action `Action::"lookupp"`/),
    );
    expect(messages).toContainEqual(
      expect.stringMatching(
        /^3:10: unable to guarantee safety of access to optional attribute `input\.ratio`.*has ratio/,
      ),
    );
  });

  it('an evaluation error denies, where Cedar alone would skip the failing forbid and allow', async () => {
    const files = {
      'a.cedar': `@id("all") permit (principal, action, resource);
@id("overflows")
forbid (principal, action == Action::"lookup", resource)
when { context.input.limit + 9223372036854775807 > 0 };`,
    };
    const authorizer = await policyFor(tempDir(), files, { tools });
    const decision = await ask(authorizer, lookup, { query: 'a', limit: 5 });
    expect(decision).toMatchObject({ decision: 'deny', effect: 'deny' });
    expect(decision.errors[0]).toMatch(/policy overflows: .*overflow/);
    expect(decision.reason).toMatch(/^evaluation error \(an error denies\): policy overflows/);
    // what Cedar says by itself: allow (the erroring forbid is skipped)
    const cedar = await loadCedar();
    const raw = cedar.isAuthorized({
      principal: { type: 'Agent', id: 'tester' },
      action: { type: 'Action', id: 'lookup' },
      resource: { type: 'Module', id: 'in-process' },
      context: { input: { limit: 5 } },
      policies: { staticPolicies: files['a.cedar'] },
      entities: [],
    });
    expect(raw.type === 'success' && raw.response.decision).toBe('allow');
  });

  it('types context.input from the JSON Schema: Long, decimal, Bool, Set; what Cedar cannot type is left out and said', async () => {
    const schema = generateSchema(manifestsOf(tools));
    const action = (
      schema.json[''] as { actions: Record<string, { annotations?: Record<string, string> }> }
    ).actions.lookup;
    expect(action?.annotations?.untyped).toBe('input.headers (an object with arbitrary keys)');
    const authorizer = await policyFor(
      tempDir(),
      {
        'a.cedar': `permit (principal, action == Action::"lookup", resource)
when {
  context.input.limit <= 20 && !context.input.exact && context.input.tags.contains("public") &&
  (context.input has ratio && context.input.ratio.lessThan(decimal("0.75")))
};`,
      },
      { tools },
    );
    const ok = { query: 'a', tags: ['public'], ratio: 0.5 };
    expect((await ask(authorizer, lookup, ok)).decision).toBe('allow');
    expect((await ask(authorizer, lookup, { ...ok, headers: { a: 'b' } })).decision).toBe('allow');
    expect((await ask(authorizer, lookup, { ...ok, limit: 21 })).decision).toBe('deny');
    expect((await ask(authorizer, lookup, { ...ok, ratio: 0.8 })).decision).toBe('deny');
    expect((await ask(authorizer, lookup, { ...ok, tags: [] })).decision).toBe('deny');
    expect((await ask(authorizer, lookup, { ...ok, ratio: 1e16 })).reason).toMatch(
      /input\.ratio is 10000000000000000, beyond what a Cedar decimal holds/,
    );
  });

  it('decides in microseconds once warm', async () => {
    const authorizer = await policyFor(
      tempDir(),
      {
        'a.cedar':
          'permit (principal, action == Action::"lookup", resource) when { context.input.limit < 100 };',
      },
      { tools },
    );
    for (let i = 0; i < 50; i++) await ask(authorizer, lookup, { query: 'a' });
    const decision = await ask(authorizer, lookup, { query: 'a' });
    expect(decision.decision).toBe('allow');
    expect(decision.latencyUs).toBeGreaterThan(0);
    expect(Number.isInteger(decision.latencyUs)).toBe(true);
  });
});
