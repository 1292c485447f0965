import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { parseAgentSpec } from '../../src/definition/agent-spec.ts';
import { resolveModel } from '../../src/models/providers.ts';
import { ScriptedModel } from '../../src/models/scripted-model.ts';
import { tempDir } from '../support/temp-dir.ts';

const request = {
  instructions: '',
  messages: [{ role: 'user' as const, text: 'go' }],
  tools: [],
  settings: {},
  turn: 1,
};

async function drain(model: ScriptedModel) {
  const parts = [];
  for await (const part of model.stream(request)) parts.push(part);
  return parts;
}

describe('scripted policies', () => {
  it('play the turn the function returns, marked as scripted', async () => {
    const model = new ScriptedModel('p', ({ turn, task }) => ({
      text: `turn ${turn} of ${task}`,
      tool_calls: [{ name: 'env_step', input: { action: 'up' } }],
    }));
    const parts = await drain(model);
    expect(
      parts
        .filter((p) => p.type === 'text-delta')
        .map((p) => p.text)
        .join(''),
    ).toBe('[scripted] turn 1 of go');
    expect(parts).toContainEqual({
      type: 'tool-call',
      call: { id: 'call_1_1', name: 'env_step', input: { action: 'up' } },
    });
  });

  it('a turn that is not one is a one-line error', async () => {
    const model = new ScriptedModel('p', () => ({ tool_calls: [{ nam: 'x' }] }) as never);
    await expect(drain(model)).rejects.toThrow(
      "the scripted policy's turn 1 is not a turn (tool_calls.0.name: Invalid input: expected string, received undefined); return { text, tool_calls: [{ name, input }] }",
    );
  });

  it('a module without a policy, or missing, is one line when the model resolves', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'none.ts'), 'export const x = 1;\n');
    const config = loadConfig({ AGENTD_HOME: dir });
    const spec = (script: string) =>
      parseAgentSpec(join(dir, 'agent.yaml'), `name: a\nmodel: scripted/a\nscript: ${script}\n`);
    await expect(resolveModel(spec('./none.ts'), config)).rejects.toThrow(
      `script: ${join(dir, 'none.ts')} exports no policy (export default definePolicy((request) => turn))`,
    );
    await expect(resolveModel(spec('./gone.ts'), config)).rejects.toThrow(
      `script: ${join(dir, 'gone.ts')} not found (check the spec's script field)`,
    );
  });
});
