import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

/** An agent that reads notes.txt with the fs connector, under the stored set `team`. */
function agentUnderSet(): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'notes.txt'), 'hello\n');
  writeFileSync(
    join(dir, 'agent.yaml'),
    [
      'name: reader',
      'model: scripted/reader',
      'script: ./script.yaml',
      'instructions: Read notes.txt.',
      'tools: [fs.read]',
      'policy: { set: team }',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'script.yaml'),
    [
      'turns:',
      '  - text: Reading.',
      '    tool_calls:',
      '      - name: fs__read',
      '        input: { path: notes.txt }',
      '  - text: "Read: {{result:fs__read}}"',
    ].join('\n'),
  );
  return dir;
}

function policyFolder(files: Record<string, string>): string {
  const dir = join(tempDir(), 'policies');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe('policy sets in the store', () => {
  it('saves versions, activates only valid ones, and runs use the active one', async () => {
    const home = tempDir();
    const agent = agentUnderSet();
    const spec = join(agent, 'agent.yaml');

    // Nothing active yet: the run does not start, in one line.
    const early = await agentd(['run', spec, 'read it'], { home, cwd: agent });
    expect(early.code).toBe(2);
    expect(early.stderr.trim()).toMatch(
      /policy\.set: policy set "team" has no active version on this machine \(agentd policy activate team;/,
    );

    const allow = policyFolder({
      'read.cedar': 'permit (principal, action == Action::"fs.read", resource);\n',
    });
    const first = await agentd(['policy', 'save', allow, '--as', 'team'], { home });
    expect(first.stdout).toBe('saved team@1 (1 file)\n');
    const again = await agentd(['policy', 'save', allow, '--as', 'team'], { home });
    expect(again.stdout).toBe('saved team@1 (1 file)\n');

    const broken = policyFolder({
      'read.cedar': 'permit (principal, action == Action::"fs.nope", resource);\n',
    });
    expect((await agentd(['policy', 'save', broken, '--as', 'team'], { home })).stdout).toBe(
      'saved team@2 (1 file)\n',
    );
    const refused = await agentd(['policy', 'activate', 'team'], { home });
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toMatch(
      /^agentd: policy set team@2 is not valid, so it was not activated: read\.cedar:1:\d+: /,
    );

    const activated = await agentd(['policy', 'activate', 'team@1'], { home });
    expect(activated.stdout).toMatch(/^active: team@1 /);
    expect(existsSync(join(home, 'policy-sets', 'team', 'active', 'read.cedar'))).toBe(true);
    const sets = await agentd(['policy', 'sets', '--json'], { home });
    const listed = sets.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { version: number; active: boolean });
    expect(listed.map((s) => [s.version, s.active])).toEqual([
      [1, true],
      [2, false],
    ]);

    const allowed = await agentd(['run', spec, 'read it'], { home, cwd: agent });
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain('hello');

    // A new version that forbids the read, activated: the next run is denied.
    const deny = policyFolder({
      'read.cedar':
        'permit (principal, action == Action::"fs.read", resource);\nforbid (principal, action == Action::"fs.read", resource);\n',
    });
    await agentd(['policy', 'save', deny, '--as', 'team', '--activate'], { home });
    const denied = await agentd(['run', spec, 'read it', '--json'], { home, cwd: agent });
    expect(denied.stdout).toMatch(/"errorKind":"denied"/);
  }, 60_000);

  it('says what is wrong in one line', async () => {
    const home = tempDir();
    const empty = join(tempDir(), 'empty');
    mkdirSync(empty);
    for (const [args, message] of [
      [['policy', 'save', empty, '--as', 'x'], /has no \.cedar files to save/],
      [['policy', 'save', empty, '--as', 'Bad Name'], /is not a policy set name/],
      [['policy', 'activate', 'nothing'], /no policy set "nothing" is saved/],
      [['policy', 'activate', 'a@b'], /is not <name> or <name>@<version>/],
    ] as const) {
      const result = await agentd([...args], { home });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(message);
    }
  }, 30_000);
});
