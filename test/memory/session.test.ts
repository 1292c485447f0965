import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const example = join(repoRoot, 'examples/memory-assistant/agent.yaml');

/** The run id `agentd run` printed last. */
function runIdOf(stderr: string): string {
  const ids = [...stderr.matchAll(/run (run_[0-9a-z]+)/g)].map((m) => m[1]!);
  return ids.at(-1)!;
}

async function started(home: string, runId: string) {
  const exported = await agentd(['runs', 'export', runId], { home });
  const first = JSON.parse(exported.stdout.split('\n')[0]!) as RunEvent;
  if (first.type !== 'run.started') throw new Error('no run.started');
  return first.data;
}

describe('sessions and long-term memory across runs (scripted models)', () => {
  it('a session continues across three runs: a preference stated in run 1 is applied in run 3', async () => {
    const home = tempDir();
    const run = (task: string, ...more: string[]) =>
      agentd(['run', example, task, '--session', 's1', '--actor', 'alice', ...more], { home });

    const first = await run('I prefer answers in Korean. Please remember that.');
    expect(first.code).toBe(0);
    // The run was reported before its memories were extracted.
    expect(first.stderr.indexOf('✓ completed')).toBeLessThan(first.stderr.indexOf('memory: run_'));
    expect(first.stderr).toMatch(/memory: run_\w+: 2 new, 0 updated, 0 already known\n/);
    const run1 = runIdOf(first.stderr);

    const second = await run('The service deploys with make release.');
    expect(second.code).toBe(0);
    const run2 = runIdOf(second.stderr);
    const secondStart = await started(home, run2);
    expect(secondStart.session).toEqual({ id: 's1', previousRuns: [run1] });

    const third = await run('How do I deploy the service?');
    expect(third.code).toBe(0);
    const run3 = runIdOf(third.stderr);
    const start = await started(home, run3);
    expect(start.actor).toBe('alice');
    // Short-term: the session's earlier runs are in the first message, in order.
    expect(start.session).toEqual({ id: 's1', previousRuns: [run1, run2] });
    const context = start.context!;
    expect(context).toMatch(/^<session id="s1" earlier-runs="2">/);
    expect(context.indexOf('[user] I prefer answers in Korean')).toBeLessThan(
      context.indexOf('[user] The service deploys with make release.'),
    );
    // Long-term: the preference from run 1 is in the instructions run 3's model got.
    expect(start.memory?.instructions).toMatch(
      /## Recalled memory\n.*\n- \[preference\] Answer in Korean\. \(mem_\w+, said by the user in run_\w+/,
    );
    expect(start.memory?.instructions).toContain('- [fact] The service deploys with make release.');
    expect(start.memory?.mode).toBe('full-text');
    expect(start.memory?.note).toMatch(/no embedding model is configured/);
    // ... and the agent, searching its memory with the memory tool, answers with it.
    expect(third.stdout).toMatch(
      /\[preference: answer language\] Answer in Korean\. \(from the user\)/,
    );
    expect(third.stdout).toContain('The service deploys with make release.');

    // Said again: nothing new. Restated with a change: the fact is superseded, not doubled.
    const again = await run('The service deploys with make release.');
    // (the session's summary is updated, as after every run)
    expect(again.stderr).toMatch(/memory: run_\w+: 0 new, 1 updated, 1 already known\n/);
    const changed = await run('The service deploys with make ship now.');
    expect(changed.stderr).toMatch(/memory: run_\w+: 0 new, 2 updated, 1 already known\n/);
    const facts = await agentd(['memory', 'list', '--kind', 'fact', '--json'], { home });
    const active = facts.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(active.map((m) => m.text)).toEqual([
      'The service deploys with make ship (make release is retired).',
    ]);
    const all = await agentd(['memory', 'list', '--kind', 'fact', '--all', '--json'], { home });
    expect(all.stdout.trim().split('\n')).toHaveLength(2);
    // One summary per session: each run's summary replaced the one before.
    const summaries = await agentd(['memory', 'list', '--kind', 'summary', '--json'], { home });
    expect(summaries.stdout.trim().split('\n')).toHaveLength(1);
    expect(summaries.stdout).toContain('Asked: The service deploys with make ship now.');

    // Another session of the same actor starts afresh, but remembers the preference.
    const other = await agentd(
      ['run', example, 'Anything new?', '--session', 's2', '--actor', 'alice'],
      { home },
    );
    const otherStart = await started(home, runIdOf(other.stderr));
    expect(otherStart.session).toEqual({ id: 's2', previousRuns: [] });
    expect(otherStart.context ?? '').not.toContain('<session');
    expect(otherStart.memory?.instructions).toContain('Answer in Korean.');
    // Another actor gets none of alice's preferences.
    const bob = await agentd(['run', example, 'Anything new?', '--actor', 'bob'], { home });
    const bobStart = await started(home, runIdOf(bob.stderr));
    expect(bobStart.memory?.instructions ?? '').not.toContain('Korean');
  }, 120_000);

  it('past the session budget, the oldest runs are summarized as compaction does', async () => {
    const home = tempDir();
    const spec = join(home, 'agent.yaml');
    writeFileSync(
      spec,
      `name: brief-session
model: scripted/brief
script: ${join(repoRoot, 'examples/memory-assistant/script.yaml')}
tools: [memory.search]
memory:
  strategies: [preferences]
  extraction: { script: ${join(repoRoot, 'examples/memory-assistant/extraction.yaml')} }
  session: { max_tokens: 250 }
`,
    );
    const ids: string[] = [];
    for (const task of ['First question about the build.', 'Second one, about tests.', 'Third.']) {
      const result = await agentd(['run', spec, task, '--session', 'long', '--actor', 'al'], {
        home,
      });
      expect(result.code, result.stderr).toBe(0);
      ids.push(runIdOf(result.stderr));
    }
    const third = await started(home, ids[2]!);
    expect(third.session?.previousRuns).toEqual(ids.slice(0, 2));
    expect(third.session?.compacted).toBe(true);
    expect(third.session?.summarized).toEqual([ids[0]]);
    expect(third.context).toMatch(/\[summary of 1 earlier run\(s\)\]\n\[scripted\] Summary/);
    expect(third.context).toContain('[user] Second one, about tests.');
    // The first run is in the summary only: its turns are no longer there verbatim.
    expect(third.context!.match(/\[assistant calls memory__search\]/g)).toHaveLength(1);
  }, 120_000);

  it('a bad session id is one line', async () => {
    const home = tempDir();
    const result = await agentd(['run', example, 'hi', '--session', 'a b'], { home });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n').at(-1)).toBe(
      'agentd: --session: "a b" is not a session id (letters, digits, . _ : -; up to 128)',
    );
  });
});
