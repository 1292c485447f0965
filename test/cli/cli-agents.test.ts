import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

/** An AGENTD_HOME with a scripted agent that uses the settings connector, and a broken one. */
function home(): string {
  const dir = tempDir();
  const scout = join(dir, 'agents', 'scout');
  mkdirSync(scout, { recursive: true });
  writeFileSync(
    join(scout, 'agent.yaml'),
    `name: scout
description: Reports the agents this machine has.
model: scripted/scout
script: ./script.yaml
instructions: Report the agents.
tools:
  - settings.*
`,
  );
  writeFileSync(
    join(scout, 'script.yaml'),
    `turns:
  - tool_calls:
      - name: settings__list_agents
        input: {}
  - text: "{{result:settings__list_agents}}"
`,
  );
  writeFileSync(
    join(dir, 'agents', 'broken.yaml'),
    'name: broken\nmodel: antropic/claude-sonnet-4-5\ninstructions: Never runs.\n',
  );
  return dir;
}

function oneLine(result: { code: number | null; stderr: string }, pattern: RegExp) {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
  expect(result.stderr.trim()).toMatch(pattern);
}

describe('agentd agents', () => {
  it('lists and shows the agents of AGENTD_HOME and agent_dirs, broken ones with their error', async () => {
    const dir = home();
    const list = await agentd(['agents', 'list'], { home: dir });
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME +MODEL +STATE +DESCRIPTION$/);
    expect(lines[1]).toMatch(
      /^broken +antropic\/claude-sonnet-4-5 +broken +.*broken\.yaml: model: unknown provider "antropic"/,
    );
    expect(lines[2]).toMatch(/^scout +scripted\/scout +ok +Reports the agents this machine has\.$/);

    const more = join(dir, 'more');
    mkdirSync(more);
    writeFileSync(
      join(more, 'helper.yaml'),
      'name: helper\nmodel: openai/gpt-5\ninstructions: Helps.\n',
    );
    writeFileSync(join(dir, 'config.yaml'), 'agent_dirs: [more, missing]\n');
    const json = await agentd(['agents', 'list', '--json'], { home: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(json.stderr).toBe(
      `note: agent_dirs: ${join(dir, 'missing')} does not exist (create it, or remove it from config.yaml)\n`,
    );
    const agents = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(agents.map((a) => [a.name, a.valid])).toEqual([
      ['broken', false],
      ['scout', true],
      ['helper', true],
    ]);
    expect(agents[2]).toEqual({
      name: 'helper',
      path: join(more, 'helper.yaml'),
      model: 'openai/gpt-5',
      description: 'Helps.',
      valid: true,
    });

    const show = await agentd(['agents', 'show', 'scout'], { home: dir });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(`path:         ${join(dir, 'agents', 'scout', 'agent.yaml')}\n`);
    expect(show.stdout).toContain('tools:        settings.*\n');
    const broken = await agentd(['agents', 'show', 'broken'], { home: dir });
    expect(broken.stdout).toMatch(/^broken · broken\n/);
    expect(broken.stdout).toMatch(/error: +.*unknown provider "antropic"/);
    oneLine(
      await agentd(['agents', 'show', 'nobody'], { home: dir }),
      /^agentd: no agent "nobody" \(known: broken, scout, helper; see agentd agents list\)$/,
    );
  });

  it('runs an agent by name, with the settings connector read only unless its spec allows changes', async () => {
    const dir = home();
    const run = await agentd(['run', 'scout', 'which agents are there?', '--json'], { home: dir });
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunEvent);
    const started = events[0];
    expect(started?.type === 'run.started' && started.data.tools.map((t) => t.name).sort()).toEqual(
      [
        'settings__get_config',
        'settings__list_agents',
        'settings__list_servers',
        'settings__show_agent',
        'settings__show_server',
      ],
    );
    const finished = events.at(-1);
    expect(finished?.type === 'run.finished' && finished.data.status).toBe('completed');
    const output = finished?.type === 'run.finished' ? (finished.data.output ?? '') : '';
    expect(output).toContain('2 agents in ');
    expect(output).toMatch(/- scout \(scripted\/scout\): Reports the agents this machine has\./);
    expect(output).toMatch(/- broken: broken: .*unknown provider "antropic"/);

    oneLine(
      await agentd(['run', 'nobody', 'hello'], { home: dir }),
      /^agentd: no file "nobody" and no agent "nobody" \(known: broken, scout; see agentd agents list\)$/,
    );
    oneLine(
      await agentd(['run', 'broken', 'hello'], { home: dir }),
      /^agentd: .*broken\.yaml: model: unknown provider "antropic"/,
    );

    // A spec that names a changing tool without read_only: false does not start.
    const writer = join(dir, 'agents', 'writer.yaml');
    const spec = `name: writer
model: scripted/writer
script: ./scout/script.yaml
instructions: Change things.
tools:
  - settings.set_config
`;
    writeFileSync(writer, spec);
    oneLine(
      await agentd(['run', 'writer', 'hello'], { home: dir }),
      /^agentd: .*writer\.yaml: tools: MCP server "settings" has no tool "set_config" \(it has: list_agents, show_agent, list_servers, show_server, get_config\)$/,
    );
    writeFileSync(writer, `${spec}connectors:\n  settings: { read_only: false }\n`);
    const allowed = await agentd(['run', 'writer', 'hello', '--json'], { home: dir });
    const first = JSON.parse(allowed.stdout.split('\n')[0]!) as RunEvent;
    expect(first.type === 'run.started' && first.data.tools.map((t) => t.name)).toEqual([
      'settings__set_config',
    ]);
  });
});
