import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { DuplicateEventError } from '../../src/store/store.ts';
import { tempDir } from '../support/temp-dir.ts';

const usage = {
  inputTokens: 10,
  outputTokens: 5,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};

function started(runId: string, task = 'task'): RunEvent {
  return {
    runId,
    seq: 0,
    at: '2026-11-22T00:00:00.000Z',
    type: 'run.started',
    data: {
      agent: 'a',
      model: 'scripted/x',
      task,
      instructions: '',
      tools: [],
      limits: { maxTurns: 5, maxToolRepairs: 3 },
    },
  };
}

function request(runId: string, seq: number): RunEvent {
  return {
    runId,
    seq,
    at: '2026-11-22T00:00:01.000Z',
    type: 'model.request',
    data: { turn: seq, model: 'scripted/x', messageCount: 1, toolCount: 0 },
  };
}

function finished(runId: string, seq: number): RunEvent {
  return {
    runId,
    seq,
    at: '2026-11-22T00:00:02.000Z',
    type: 'run.finished',
    data: {
      status: 'completed',
      reason: 'final_answer',
      turns: 1,
      usage,
      costUsd: 0.5,
      durationMs: 3,
    },
  };
}

describe.each(['process', 'machine'] as const)('SqliteStore (durability %s)', (durability) => {
  it('appends and reads back events in order, and lists runs with their status from the log', async () => {
    const dir = tempDir();
    const store = new SqliteStore({ path: join(dir, 'a.db'), durability });
    await store.append([started('run_1'), request('run_1', 1)]);
    await store.append([finished('run_1', 2)]);
    await store.append([started('run_2')]);
    const events = await store.readEvents('run_1');
    expect(events.map((e) => [e.seq, e.type])).toEqual([
      [0, 'run.started'],
      [1, 'model.request'],
      [2, 'run.finished'],
    ]);
    expect(await store.readEvents('run_1', { afterSeq: 1 })).toHaveLength(1);
    const runs = await store.listRuns();
    expect(runs.map((r) => [r.id, r.status])).toEqual([
      ['run_2', 'running'],
      ['run_1', 'completed'],
    ]);
    expect(runs[1]).toMatchObject({
      turns: 1,
      costUsd: 0.5,
      finishedAt: '2026-11-22T00:00:02.000Z',
    });
    expect(await store.listRuns({ status: 'completed' })).toHaveLength(1);
    await store.close();
  });

  it('refuses a duplicate (runId, seq) and keeps the batch all-or-nothing', async () => {
    const store = new SqliteStore({ path: ':memory:', durability });
    await store.append([started('run_1')]);
    await expect(store.append([request('run_1', 1), request('run_1', 0)])).rejects.toBeInstanceOf(
      DuplicateEventError,
    );
    expect(await store.readEvents('run_1')).toHaveLength(1);
    await store.close();
  });

  it('finds a run by a unique id prefix only', async () => {
    const store = new SqliteStore({ path: ':memory:', durability });
    await store.append([started('run_abc1')]);
    await store.append([started('run_abc2')]);
    await store.append([started('run_xyz')]);
    expect((await store.getRun('run_x'))?.id).toBe('run_xyz');
    expect(await store.getRun('run_abc')).toBeUndefined();
    expect((await store.getRun('run_abc2'))?.id).toBe('run_abc2');
    expect(await store.getRun('run_%')).toBeUndefined();
    await store.close();
  });

  it('keeps interleaved runs apart', async () => {
    const store = new SqliteStore({ path: ':memory:', durability });
    await Promise.all([store.append([started('run_a')]), store.append([started('run_b')])]);
    await Promise.all(
      [1, 2, 3].flatMap((seq) => [
        store.append([request('run_a', seq)]),
        store.append([request('run_b', seq)]),
      ]),
    );
    for (const id of ['run_a', 'run_b']) {
      const events = await store.readEvents(id);
      expect(events.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
      expect(events.every((e) => e.runId === id)).toBe(true);
    }
    await store.close();
  });
});

describe('SqliteStore', () => {
  it('redacts secrets before they are written', async () => {
    const secret = 'sk-test-0123456789abcdefghij';
    const store = new SqliteStore({ path: ':memory:', redact: createRedactor([secret]) });
    await store.append([
      started('run_1', `use the key ${secret} and sk-ant-api03-AAAAAAAAAAAAAAAAAAAAAAAA`),
    ]);
    const [event] = await store.readEvents('run_1');
    expect(JSON.stringify(event)).not.toContain(secret);
    expect(JSON.stringify(event)).not.toContain('sk-ant-api03');
    expect((await store.getRun('run_1'))?.task).toBe('use the key [redacted] and [redacted]');
    await store.close();
  });

  it('keeps every committed event when the process is killed right after appending', () => {
    const dir = tempDir();
    const path = join(dir, 'kill.db');
    for (const durability of ['process', 'machine']) {
      const runId = `run_${durability}`;
      const script = `
        import { SqliteStore } from ${JSON.stringify(new URL('../../src/store/sqlite/sqlite-store.ts', import.meta.url).pathname)};
        const store = new SqliteStore({ path: ${JSON.stringify(path)}, durability: '${durability}' });
        const at = new Date().toISOString();
        const limits = { maxTurns: 5, maxToolRepairs: 3 };
        await store.append([{ runId: '${runId}', seq: 0, at, type: 'run.started', data: { agent: 'a', model: 'scripted/x', task: 't', instructions: '', tools: [], limits } }]);
        for (let seq = 1; seq <= 200; seq++) {
          await store.append([{ runId: '${runId}', seq, at, type: 'model.request', data: { turn: seq, model: 'scripted/x', messageCount: 1, toolCount: 0 } }]);
        }
        process.kill(process.pid, 'SIGKILL');
      `;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
      });
      expect(child.signal, child.stderr).toBe('SIGKILL');
    }
    const store = new SqliteStore({ path });
    return Promise.all(
      ['run_process', 'run_machine'].map(async (id) => {
        const events = await store.readEvents(id);
        expect(events).toHaveLength(201);
        expect(events.at(-1)?.seq).toBe(200);
      }),
    ).finally(() => store.close());
  });

  it('migrates a new file and reopens an existing one without loss', async () => {
    const dir = tempDir();
    const path = join(dir, 'm.db');
    const first = new SqliteStore({ path });
    await first.append([started('run_1')]);
    await first.close();
    const second = new SqliteStore({ path });
    expect(await second.readEvents('run_1')).toHaveLength(1);
    await second.close();
  });
});
