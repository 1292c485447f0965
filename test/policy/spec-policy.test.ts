import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAgentSpec } from '../../src/definition/agent-spec.ts';
import { policySourceOf } from '../../src/policy/load.ts';
import { tempDir } from '../support/temp-dir.ts';

const base = 'name: a\nmodel: scripted/a\nscript: s.yaml\n';

describe('where an agent spec puts its policies', () => {
  it('policy: names a folder and a mode; without a dir, policies/ beside the spec', () => {
    const dir = tempDir();
    const spec = parseAgentSpec(
      join(dir, 'agent.yaml'),
      `${base}policy:\n  dir: ./rules\n  mode: log_only\n`,
    );
    expect(spec.policy).toEqual({ dir: join(dir, 'rules'), mode: 'log_only' });
    expect(policySourceOf(spec)).toEqual({ dir: join(dir, 'rules'), mode: 'log_only' });
    const defaults = parseAgentSpec(join(dir, 'agent.yaml'), `${base}policy: {}\n`);
    expect(policySourceOf(defaults)).toEqual({ dir: join(dir, 'policies'), mode: 'enforce' });
  });

  it('without policy:, a policies/ folder with .cedar files applies; with none, no policy applies', () => {
    const dir = tempDir();
    const spec = parseAgentSpec(join(dir, 'agent.yaml'), base);
    expect(policySourceOf(spec)).toBeUndefined();
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'policies', 'README.md'), 'notes');
    expect(policySourceOf(spec)).toBeUndefined();
    writeFileSync(join(dir, 'policies', 'a.cedar'), 'permit (principal, action, resource);');
    expect(policySourceOf(spec)).toEqual({ dir: join(dir, 'policies'), mode: 'enforce' });
  });

  it('a bad mode is one line naming the field, the value and what is allowed', () => {
    expect(() => parseAgentSpec('agent.yaml', `${base}policy:\n  mode: strict\n`)).toThrow(
      /^agent\.yaml: policy\.mode: .*strict.*enforce.*log_only/,
    );
  });
});
