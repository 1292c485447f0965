import { describe, expect, it } from 'vitest';
import { bin } from '../mcp/support.ts';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const agent = 'examples/unit-converter/agent.yaml';

/** A home with server-everything registered as `everything` (it has prompts). */
async function homeWithEverything(): Promise<string> {
  const home = tempDir();
  const added = await agentd(
    [
      'mcp',
      'add',
      'everything',
      '--sandbox',
      'none',
      '--no-list',
      '--',
      process.execPath,
      bin('mcp-server-everything'),
      'stdio',
    ],
    { home },
  );
  expect(added.code).toBe(0);
  return home;
}

function oneLine(result: { code: number | null; stderr: string }): string {
  expect(result.code).toBe(2);
  const lines = result.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('agentd run --prompt: an MCP prompt as the task', () => {
  it('runs with the prompt’s text, and a task given too comes after it', async () => {
    const home = await homeWithEverything();
    const run = await agentd(
      ['run', agent, '--prompt', 'everything/args-prompt', '--arg', 'city=Paris', 'then say hi'],
      { home },
    );
    expect(run.code).toBe(0);
    const listed = await agentd(['runs', 'list', '--json'], { home });
    const [summary] = listed.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { task: string });
    expect(summary!.task).toMatch(/Paris/);
    expect(summary!.task).toMatch(/\n\nthen say hi$/);
  }, 30_000);

  it('says in one line what is wrong with a prompt', async () => {
    const home = await homeWithEverything();
    expect(oneLine(await agentd(['run', agent, '--prompt', 'everything'], { home }))).toBe(
      'agentd: --prompt: "everything" is not server/prompt (e.g. --prompt github/review_pr)',
    );
    expect(oneLine(await agentd(['run', agent, '--arg', 'a=b', 'task'], { home }))).toBe(
      'agentd: --arg: arguments belong to a prompt: give --prompt server/name',
    );
    expect(oneLine(await agentd(['run', agent, '--prompt', 'everything/nope'], { home }))).toMatch(
      /MCP server "everything" has no prompt "nope" \(it has: .*args-prompt/,
    );
    expect(
      oneLine(await agentd(['run', agent, '--prompt', 'everything/args-prompt'], { home })),
    ).toMatch(/its arguments: city \(required\), state; give them with --arg name=value\)$/);
    expect(oneLine(await agentd(['run', agent, '--prompt', 'nowhere/x'], { home }))).toMatch(
      /no MCP server "nowhere" is registered/,
    );
    expect(oneLine(await agentd(['run', agent], { home }))).toMatch(/the task is empty/);
  }, 30_000);
});
