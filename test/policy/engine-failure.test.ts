import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadCedar } from '../../src/policy/cedar.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import { originOf } from '../../src/tools/tool-origin.ts';
import { tempDir } from '../support/temp-dir.ts';
import { policyFor } from './support.ts';

const lookup = defineTool({
  name: 'lookup',
  description: 'Look a word up.',
  input: z.object({ query: z.string() }),
  execute: () => 'found',
});

/**
 * The Cedar engine broken for real: text nested deeper than its stack, handed to it past the
 * depth guard, traps its WebAssembly instance, and every later call into it throws. (Its own
 * file: the instance stays broken for the rest of the process.)
 */
describe('a broken policy engine', () => {
  it('denies every call (never fails open), with the reason in the decision', async () => {
    const authorizer = await policyFor(
      tempDir(),
      { 'ok.cedar': 'permit(principal, action == Action::"lookup", resource);\n' },
      { tools: [lookup] },
    );
    const ask = () =>
      authorizer.authorize({
        origin: originOf(lookup),
        toolName: 'lookup',
        input: { query: 'a' },
        rawInput: { query: 'a' },
      });
    expect(await ask()).toMatchObject({ decision: 'allow' });

    const cedar = await loadCedar();
    const deep = `permit(principal, action, resource) when { ${'('.repeat(1000)}true${')'.repeat(1000)} };`;
    expect(() => cedar.checkParsePolicySet({ staticPolicies: deep })).toThrow();
    expect(() =>
      cedar.checkParsePolicySet({ staticPolicies: 'permit(principal, action, resource);' }),
    ).toThrow();

    const decision = await ask();
    expect(decision).toMatchObject({ decision: 'deny', effect: 'deny' });
    expect(decision?.reason).toMatch(/^the policy engine failed \(.+\); the call is denied$/);
  });
});
