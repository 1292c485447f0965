import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.ts';
import { FakeWorldModel } from '../support/fake-world-model.ts';
import { tempDir } from '../support/temp-dir.ts';

/** `agentd env serve ...` as a real MCP server process, with a real client on its stdio. */
async function serve(args: string[], home: string) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(repoRoot, 'bin/agentd.js'), 'env', 'serve', ...args],
    env: { PATH: process.env.PATH ?? '', AGENTD_HOME: home, TMPDIR: process.env.TMPDIR ?? '/tmp' },
    cwd: repoRoot,
    stderr: 'pipe',
  });
  const client = new Client({ name: 'agentd-test', version: '0.0.0' });
  await client.connect(transport);
  return client;
}

type Content = { type: string; text?: string; data?: string; mimeType?: string }[];

describe('agentd env serve: an environment as an MCP server', () => {
  it('lists env_reset, env_step (its schema the action space) and env_observe; plays an episode', async () => {
    const client = await serve(['examples/gridworld/agent.yaml', '--seed', '4'], tempDir());
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['env_reset', 'env_step', 'env_observe']);
      expect(tools[1]!.inputSchema).toMatchObject({
        type: 'object',
        properties: { action: { enum: ['up', 'down', 'left', 'right'] } },
      });
      const seen = await client.callTool({ name: 'env_observe', arguments: {} });
      const state = (
        seen.structuredContent as {
          observation: { state: { grid: string[]; agent: [number, number] } };
        }
      ).observation.state;
      expect(state.grid.join('\n')).toMatch(/G/);
      const bad = await client.callTool({ name: 'env_step', arguments: { action: 'jump' } });
      expect(bad.isError).toBe(true);
      expect((bad.content as Content)[0]!.text).toBe(
        'action must be {"action": one of up, down, left, right}, not {"action":"jump"}',
      );
      const step = await client.callTool({ name: 'env_step', arguments: { action: 'up' } });
      expect(step.structuredContent).toMatchObject({
        step: 1,
        episode: { environment: 'gridworld', seed: 4 },
      });
      // A new episode from another seed starts over.
      const reset = await client.callTool({ name: 'env_reset', arguments: { seed: 9 } });
      expect(reset.isError).toBeFalsy();
      const again = await client.callTool({ name: 'env_step', arguments: { action: 'up' } });
      expect(again.structuredContent).toMatchObject({ step: 1, episode: { seed: 9 } });
      const badSeed = await client.callTool({ name: 'env_reset', arguments: { seed: -2 } });
      expect((badSeed.content as Content)[0]!.text).toBe(
        'seed: must be a whole number from 0, not -2',
      );
    } finally {
      await client.close();
    }
  });

  it("a world model's frames reach the client as MCP images", async () => {
    const server = await new FakeWorldModel().start();
    const dir = tempDir();
    const spec = join(dir, 'agent.yaml');
    writeFileSync(
      spec,
      `name: explorer\nmodel: scripted/x\nscript: ${join(repoRoot, 'examples/gridworld/policy.ts')}\nenvironment: { kind: world-model, url: "${server.url}", prompt: a plain }\n`,
    );
    const client = await serve([spec], tempDir());
    try {
      const step = await client.callTool({ name: 'env_step', arguments: { keys: ['w'] } });
      const image = (step.content as Content).find((c) => c.type === 'image')!;
      expect(image.mimeType).toBe('image/png');
      expect(Buffer.from(image.data!, 'base64').subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('an unknown environment is one line', async () => {
    const { agentd } = await import('../support/cli.ts');
    const result = await agentd(['env', 'serve', 'chess'], { home: tempDir() });
    expect(result.stderr.trim()).toBe(
      'agentd: "chess" is neither an agent spec file nor a built-in environment (gridworld)',
    );
    expect(result.code).not.toBe(0);
  });
});
