import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const example = join(repoRoot, 'examples/memory-assistant/agent.yaml');

describe('the extraction queue', () => {
  it('an extraction a dead process left behind is done by the next run', async () => {
    const home = tempDir();
    const first = await agentd(
      ['run', example, 'I prefer answers in Korean. Please remember that.', '--actor', 'al'],
      { home },
    );
    expect(first.code).toBe(0);
    const runId = [...first.stderr.matchAll(/run (run_[0-9a-z]+)/g)].at(-1)![1]!;
    // As if the process had died before extracting: the memories are not there, and the job
    // is still marked running by a process that no longer exists.
    const store = new SqliteStore({ path: join(home, 'agentd.db') });
    for (const memory of await store.memories.list()) await store.memories.forget(memory.id);
    const events = await store.readEvents(runId);
    const id = await store.memories.enqueueJob(
      { runId, fromSeq: 0, toSeq: events.at(-1)!.seq, reason: 'run_end', specPath: example },
      new Date().toISOString(),
    );
    await store.close();
    const db = new DatabaseSync(join(home, 'agentd.db'));
    db.prepare("UPDATE memory_jobs SET status = 'running', owner = ? WHERE id = ?").run(
      `${hostname()}:999999999`,
      id,
    );
    db.close();

    const next = await agentd(['run', example, 'Anything else?', '--actor', 'al'], { home });
    expect(next.code).toBe(0);
    expect(next.stderr).toContain(`memory: ${runId}: 2 new, 0 updated, 0 already known`);
    const listed = await agentd(['memory', 'list', '--kind', 'preference'], { home });
    expect(listed.stdout).toContain('Answer in Korean.');
    const after = new SqliteStore({ path: join(home, 'agentd.db') });
    expect((await after.memories.listJobs({ status: 'pending' })).length).toBe(0);
    expect((await after.memories.listJobs({ status: 'running' })).length).toBe(0);
    await after.close();
  }, 60_000);

  it('compaction queues the turns it takes out of the context for extraction, during the run', async () => {
    const home = tempDir();
    const long = 'I looked at another part of the build logs and noted what I saw there. '.repeat(
      4,
    );
    writeFileSync(
      join(home, 'script.yaml'),
      `turns:
  - text: "${long}"
    repeat: 6
    tool_calls: [{ name: memory__search, input: { query: build logs } }]
  - text: Done.
`,
    );
    writeFileSync(
      join(home, 'extraction.yaml'),
      `extractions:
  - memories:
      - { kind: episode, text: "Read build logs for: {{task}}", key: build logs, evidence: [task] }
`,
    );
    const spec = join(home, 'agent.yaml');
    writeFileSync(
      spec,
      `name: long-reader
model: scripted/long
script: ./script.yaml
tools: [memory.search]
compaction: { context_window: 1200, threshold: 0.5, keep_recent_turns: 1 }
memory:
  strategies: [episodes]
  extraction: { script: ./extraction.yaml }
limits: { max_turns: 10 }
`,
    );
    const result = await agentd(['run', spec, 'Check the build logs', '--actor', 'al'], {
      home,
      cwd: home,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/compact/i);
    expect(result.stderr).toMatch(/memory: run_\w+ \(compacted turns\): 1 new/);
    expect(result.stderr).toMatch(/memory: run_\w+: 0 new, 0 updated, 1 already known/);
    const store = new SqliteStore({ path: join(home, 'agentd.db') });
    const jobs = await store.memories.listJobs();
    expect(jobs.map((j) => [j.reason, j.status])).toContainEqual(['compaction', 'done']);
    expect(jobs.at(-1)).toMatchObject({ reason: 'run_end', status: 'done' });
    // Each job takes up where the one before stopped.
    for (let i = 1; i < jobs.length; i++) expect(jobs[i]!.fromSeq).toBe(jobs[i - 1]!.toSeq);
    await store.close();
  }, 60_000);

  it('a resumed run extracts what it did since its last extraction, as its actor', async () => {
    const home = tempDir();
    const stopped = await agentd(
      [
        'run',
        example,
        'I prefer answers in Korean. Please remember that.',
        '--actor',
        'kim',
        '--max-turns',
        '1',
      ],
      { home },
    );
    expect(stopped.code).toBe(3);
    const runId = [...stopped.stderr.matchAll(/run (run_[0-9a-z]+)/g)].at(-1)![1]!;
    expect(stopped.stderr).toContain(`memory: ${runId}: 2 new`);
    const resumed = await agentd(['runs', 'resume', runId, '--max-turns', '4'], { home });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(
      new RegExp(`memory: ${runId}: 0 new, 0 updated, 2 already known`),
    );
    const store = new SqliteStore({ path: join(home, 'agentd.db') });
    const jobs = await store.memories.listJobs({ runId });
    expect(jobs).toHaveLength(2);
    expect(jobs[1]!.fromSeq).toBe(jobs[0]!.toSeq);
    const preferences = await store.memories.list({ actor: 'kim', kinds: ['preference'] });
    expect(preferences.map((m) => m.text)).toEqual(['Answer in Korean.']);
    await store.close();
  }, 60_000);
});
