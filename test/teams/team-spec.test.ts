import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTeamSpec } from '../../src/teams/team-spec.ts';
import { tempDir } from '../support/temp-dir.ts';

function setup() {
  const dir = tempDir();
  writeFileSync(
    join(dir, 'agent.yaml'),
    'name: helper\ndescription: helps\nmodel: scripted/helper\nscript: script.yaml\n',
  );
  writeFileSync(join(dir, 'script.yaml'), 'turns:\n  - text: hi\n');
  const config = { home: join(dir, 'home'), agentDirs: [] };
  const load = (text: string) => {
    const path = join(dir, 'team.yaml');
    writeFileSync(path, text);
    return () => loadTeamSpec(path, config);
  };
  return { dir, load };
}

describe('team.yaml', () => {
  it('loads roles from files and inline specs, with counts, overrides and the budget', () => {
    const { dir, load } = setup();
    const spec = load(`name: crew
lead: ./agent.yaml
teammates:
  worker:
    agent: ./agent.yaml
    count: 3
    model: scripted/other
    effort: high
    instructions: Be brief.
    limits: { max_turns: 5, max_time: 2m }
  checker:
    agent: { model: scripted/checker, script: script.yaml, instructions: Check things. }
    description: checks the work
max_running: 2
budget: { max_turns: 50, max_tokens: 100000, max_cost_usd: 1.5, max_time: 1h }
`)();
    expect(spec.name).toBe('crew');
    expect(spec.lead.members).toEqual(['lead']);
    expect(spec.lead.description).toBe('helps');
    const [worker, checker] = spec.teammates;
    expect(worker?.members).toEqual(['worker-1', 'worker-2', 'worker-3']);
    expect(worker).toMatchObject({
      model: 'scripted/other',
      effort: 'high',
      instructions: 'Be brief.',
      limits: { maxTurns: 5, maxTimeMs: 120_000 },
      source: './agent.yaml',
    });
    expect(checker).toMatchObject({
      members: ['checker'],
      source: 'inline',
      description: 'checks the work',
    });
    expect(checker?.spec.name).toBe('checker');
    expect(checker?.spec.script).toBe(join(dir, 'script.yaml'));
    expect(spec.maxRunning).toBe(2);
    expect(spec.budget).toEqual({
      maxTurns: 50,
      maxTokens: 100_000,
      maxCostUsd: 1.5,
      maxTimeMs: 3_600_000,
    });
    expect(spec.policy).toBeUndefined();
  });

  it('says what is wrong in one line naming the file, the field and the value', () => {
    const { dir, load } = setup();
    const file = join(dir, 'team.yaml');
    const cases: [string, string][] = [
      [
        'name: crew\nlead: ./agent.yaml\nteammates: { w: ./agent.yaml }\nfoo: 1\n',
        'unknown field "foo"',
      ],
      [
        'name: crew\nlead: ./agent.yaml\nteammates: {}\n',
        'teammates: a team needs at least one teammate role',
      ],
      [
        'name: crew\nlead: ./agent.yaml\nteammates: { all: ./agent.yaml }\n',
        'teammates.all: "all" is reserved (lead, all, team, agentd); name the role otherwise',
      ],
      [
        'name: crew\nlead: ./agent.yaml\nteammates: { Big: ./agent.yaml }\n',
        'teammates.Big: "Big" is not a role name',
      ],
      [
        'name: crew\nlead: ./agent.yaml\nteammates: { w: ./nope.yaml }\n',
        'teammates.w: "./nope.yaml" not found',
      ],
      [
        'name: crew\nlead: ./agent.yaml\nteammates: { w: { agent: { model: antropic/x } } }\n',
        'teammates.w.agent.model: unknown provider "antropic" (known: anthropic, openai, openai-compatible, ollama, local, scripted)',
      ],
      [
        'name: crew\nlead: ./agent.yaml\nteammates: { w: ./agent.yaml }\nbudget: { max_time: soon }\n',
        'budget.max_time: "soon" is not a duration',
      ],
      [
        'name: crew\nlead: { agent: ./agent.yaml, count: 2 }\nteammates: { w: ./agent.yaml }\n',
        'lead.count: a team has one lead; remove count',
      ],
      [
        'name: crew\nlead: ./agent.yaml\nteammates: { w: ghost }\n',
        'teammates.w: no agent "ghost"',
      ],
      [
        'name: crew\nlead: ./agent.yaml\nteammates: { w: { agent: ./agent.yaml, max_running: 2 } }\n',
        'teammates.w: unknown field "max_running"',
      ],
      ['name: crew\nlead: [\n', 'invalid YAML'],
    ];
    for (const [text, message] of cases) {
      let error: Error | undefined;
      try {
        load(text)();
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message, text).toContain(`${file}`);
      expect(error?.message, text).toContain(message);
      expect(error?.message.split('\n'), text).toHaveLength(1);
      expect(error?.name, text).toBe('AgentdError');
    }
  });

  it('finds a policies/ folder beside the team file', () => {
    const { dir, load } = setup();
    const read = load('name: crew\nlead: ./agent.yaml\nteammates: { w: ./agent.yaml }\n');
    expect(read().policy).toBeUndefined();
    mkdirSync(join(dir, 'policies'));
    writeFileSync(join(dir, 'policies', 'a.cedar'), 'permit (principal, action, resource);\n');
    expect(read().policy).toEqual({ dir: join(dir, 'policies'), mode: 'enforce' });
  });
});
