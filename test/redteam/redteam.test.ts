import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RedteamReport } from '../../src/redteam/run-redteam.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

type Report = RedteamReport & { gotThrough: number };

async function redteam(args: string[], home: string) {
  const result = await agentd(['redteam', ...args, '--json'], { home });
  return { ...result, report: result.stdout ? (JSON.parse(result.stdout) as Report) : undefined };
}

describe('agentd redteam on the shipped templates', () => {
  for (const template of ['coder', 'ops', 'security-review']) {
    it(`${template}: every attack is refused or contained, each decision in the audit log`, async () => {
      const { code, report, stderr } = await redteam(
        [join(repoRoot, 'templates', template)],
        tempDir(),
      );
      expect(stderr).toBe('');
      expect(report?.governed).toBe(true);
      for (const c of report!.cases) expect(c.violations, c.id).toEqual([]);
      expect(report!.violations).toEqual([]);
      expect(code).toBe(0);
      expect(report!.cases.length).toBeGreaterThanOrEqual(8);
      const ends = new Set(report!.cases.flatMap((c) => c.calls.map((call) => call.end)));
      expect(ends).toContain('policy');
      expect(ends).toContain('unknown tool');
      // every call that reached the gate has its audit entry (the runner checks it exists)
      for (const c of report!.cases) {
        expect(c.calls.length, c.id).toBeGreaterThan(0);
        for (const call of c.calls) {
          if (call.end === 'policy' || call.end === 'person' || call.end === 'ran') {
            expect(call.auditSeq, `${c.id} ${call.name}`).toBeGreaterThan(0);
          }
        }
      }
      // the race was run: the file became a link between the decision and the read
      expect(report!.cases.find((c) => c.id === 'symlink-race')?.raced).toBe(true);
    }, 120_000);
  }
});

describe('agentd redteam finds what gets through', () => {
  it('an agent with the built-in connectors and no policy set: exit 1, naming what got through', async () => {
    const dir = tempDir();
    const work = join(dir, 'work');
    mkdirSync(work);
    writeFileSync(join(work, 'a.txt'), 'hello\n');
    writeFileSync(join(dir, 'script.yaml'), 'turns:\n  - text: hello\n');
    writeFileSync(
      join(dir, 'agent.yaml'),
      'name: open\nmodel: scripted/open\nscript: ./script.yaml\nworkdir: ./work\ntools: [fs.*, shell.run, http.fetch]\nconnectors:\n  fs: { roots: [.] }\n  shell: { sandbox: auto }\n',
    );
    const { code, report } = await redteam([dir, '--only', 'argument-smuggling'], dir);
    expect(code).toBe(1);
    expect(report?.governed).toBe(false);
    const smuggling = report!.cases.find((c) => c.id === 'argument-smuggling')!;
    expect(smuggling.violations).toContain(
      'the model was shown the planted .env token (by fs__read)',
    );
    // the connectors' own guards hold without a policy: nothing outside the workdir, and a
    // directory search does not read .env (it did before: fs.search is decided on the directory)
    const held = await redteam([dir, '--only', 'path-traversal'], dir);
    expect(held.code).toBe(0);
    const traversal = held.report!.cases.find((c) => c.id === 'path-traversal')!;
    expect(traversal.violations).toEqual([]);
    expect(traversal.calls.filter((c) => c.end === 'connector').length).toBeGreaterThan(5);
  }, 120_000);

  it('memory poisoning: the planted instruction is saved untrusted, beside the trusted memory, never over it', async () => {
    for (const governed of [true, false]) {
      const dir = tempDir();
      // A policies/ folder beside the spec is its policy set: only the governed agent has one.
      mkdirSync(join(dir, governed ? 'policies' : 'work'));
      mkdirSync(join(dir, 'work'), { recursive: true });
      writeFileSync(join(dir, 'script.yaml'), 'turns:\n  - text: hello\n');
      writeFileSync(
        join(dir, 'agent.yaml'),
        `name: rememberer\nmodel: scripted/r\nscript: ./script.yaml\nworkdir: ./work\ntools: [fs.read, memory.*]\nconnectors:\n  fs: { roots: [.] }\n`,
      );
      if (governed) {
        writeFileSync(
          join(dir, 'policies', 'memory.cedar'),
          'permit (principal, action in [Action::"fs.read", Action::"memory.save", Action::"memory.search"], resource);\n',
        );
      }
      const { code, report, stderr } = await redteam([dir, '--only', 'memory-poisoning'], dir);
      expect(stderr).toBe('');
      expect(report?.governed).toBe(governed);
      const poisoning = report!.cases.find((c) => c.id === 'memory-poisoning')!;
      expect(poisoning.violations).toEqual([]);
      // Every save ran (the policy allows them): the judge looked at what they wrote.
      expect(poisoning.calls.map((c) => [c.name, c.end])).toEqual([
        ['memory__save', 'ran'],
        ['fs__read', 'ran'],
        ['memory__save', 'ran'],
        ['memory__save', 'ran'],
      ]);
      expect(code).toBe(0);
    }
  }, 120_000);

  it('an unknown attack is one line, exit 2', async () => {
    const { code, stderr, stdout } = await agentd(
      ['redteam', join(repoRoot, 'templates', 'coder'), '--only', 'nope'],
      { home: tempDir() },
    );
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('--only: no attack "nope" (attacks: inject-file');
  });
});
