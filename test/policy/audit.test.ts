import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditHash, genesisHash, verifyAudit } from '../../src/core/audit.ts';
import { digestOf } from '../../src/core/canonical-json.ts';
import { runAgent } from '../../src/runtime/agent-loop.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import { TurnModel } from '../support/models.ts';
import { tempDir } from '../support/temp-dir.ts';
import { policyFor } from './support.ts';

const note = defineTool({
  name: 'note',
  description: 'Write a note.',
  input: z.object({ text: z.string() }),
  execute: ({ text }) => `noted: ${text}`,
});
const wipe = defineTool({
  name: 'wipe',
  description: 'Wipe all notes.',
  input: z.object({ confirm: z.boolean() }),
  execute: () => 'wiped',
});

/** A run with two allowed and two denied calls, its store closed: the path of its database. */
async function recordedRun(dir: string) {
  const path = join(dir, 'agentd.db');
  const store = new SqliteStore({ path });
  const policy = await policyFor(
    dir,
    {
      'notes.cedar': '@id("notes") permit (principal, action == Action::"note", resource);',
    },
    { tools: [note, wipe], agent: 'scribe' },
  );
  const model = new TurnModel([
    {
      calls: [
        { name: 'note', input: { text: 'the api key is sk-live-0123456789abcdef' } },
        { name: 'wipe', input: { confirm: true } },
      ],
    },
    {
      calls: [
        { name: 'note', input: { text: 'second' } },
        { name: 'wipe', input: { confirm: false } },
      ],
    },
    { text: 'done' },
  ]);
  const result = await runAgent({
    store,
    agent: { name: 'scribe', instructions: '', model, tools: [note, wipe], policy },
    task: 'take notes',
  });
  const events = await store.readEvents(result.runId);
  await store.close();
  return { path, runId: result.runId, events };
}

async function verifyFile(path: string, anchor?: { seq: number; hash: string }) {
  const store = new SqliteStore({ path });
  try {
    return verifyAudit(await store.listAudit(), await store.auditHead(), anchor);
  } finally {
    await store.close();
  }
}

function tamper(source: string, name: string, sql: string): string {
  const copy = join(source, '..', `${name}.db`);
  copyFileSync(source, copy);
  const db = new DatabaseSync(copy);
  db.exec('DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;');
  db.exec(sql);
  db.close();
  return copy;
}

describe('the audit log', () => {
  it('records every decision, before the call, with a digest of the input and never the input', async () => {
    const dir = tempDir();
    const { path, runId, events } = await recordedRun(dir);
    const decisions = events.flatMap((e) => (e.type === 'policy.decision' ? [e] : []));
    expect(decisions.map((e) => [e.data.action, e.data.decision])).toEqual([
      ['note', 'allow'],
      ['wipe', 'deny'],
      ['note', 'allow'],
      ['wipe', 'deny'],
    ]);
    // each decision is in the log before its call's result
    for (const decision of decisions) {
      const result = events.find(
        (e) => e.type === 'tool.result' && e.data.callId === decision.data.callId,
      );
      expect(result!.seq).toBeGreaterThan(decision.seq);
    }
    const denied = events.filter((e) => e.type === 'tool.result' && e.data.errorKind === 'denied');
    expect(denied).toHaveLength(2);

    const store = new SqliteStore({ path });
    const audit = await store.listAudit({ runId });
    await store.close();
    expect(audit.map((a) => [a.seq, a.action, a.decision, a.effect, a.mode])).toEqual([
      [1, 'note', 'allow', 'allow', 'enforce'],
      [2, 'wipe', 'deny', 'deny', 'enforce'],
      [3, 'note', 'allow', 'allow', 'enforce'],
      [4, 'wipe', 'deny', 'deny', 'enforce'],
    ]);
    expect(audit[0]).toMatchObject({
      principal: 'Agent::"scribe"',
      user: 'alice',
      resource: 'Module::"in-process"',
      policies: ['notes'],
      prevHash: genesisHash,
    });
    expect(audit[1]?.reason).toBe('no policy permits wipe on Module::"in-process" (default deny)');
    expect(audit[0]?.latencyUs).toBeGreaterThan(0);
    // The digest is of the input the policy decided on; the log keeps that input redacted.
    expect(audit[0]?.inputDigest).toBe(
      digestOf({ text: 'the api key is sk-live-0123456789abcdef' }),
    );
    const call = events.find((e) => e.type === 'tool.call' && e.data.name === 'note');
    expect(JSON.stringify(call)).not.toContain('sk-live');
    expect(JSON.stringify(audit)).not.toContain('sk-live');
  });

  it('verifies an untouched log, and finds an edit, a deletion, a swap and a cut-off tail done in SQL', async () => {
    const dir = tempDir();
    const { path } = await recordedRun(dir);
    expect(await verifyFile(path)).toMatchObject({ ok: true, entries: 4, head: { seq: 4 } });

    // the table refuses edits and deletes while its triggers stand
    const db = new DatabaseSync(path);
    expect(() => db.exec("UPDATE audit_log SET decision = 'allow' WHERE seq = 2")).toThrow(
      /append-only/,
    );
    expect(() => db.exec('DELETE FROM audit_log WHERE seq = 2')).toThrow(/append-only/);
    db.close();

    const edited = tamper(
      path,
      'edited',
      "UPDATE audit_log SET decision = 'allow', effect = 'allow' WHERE seq = 2",
    );
    expect(await verifyFile(edited)).toMatchObject({
      ok: false,
      seq: 2,
      problem: expect.stringMatching(/^entry #2 was changed after it was written/),
    });
    const deleted = tamper(path, 'deleted', 'DELETE FROM audit_log WHERE seq = 3');
    expect(await verifyFile(deleted)).toMatchObject({
      ok: false,
      seq: 3,
      problem: expect.stringMatching(/^entry #3 is missing/),
    });
    const swapped = tamper(
      path,
      'swapped',
      `UPDATE audit_log SET seq = -2 WHERE seq = 2;
       UPDATE audit_log SET seq = 2 WHERE seq = 3;
       UPDATE audit_log SET seq = 3 WHERE seq = -2;`,
    );
    expect(await verifyFile(swapped)).toMatchObject({ ok: false, seq: 2 });
    const cut = tamper(path, 'cut', 'DELETE FROM audit_log WHERE seq = 4');
    expect(await verifyFile(cut)).toMatchObject({
      ok: false,
      seq: 4,
      problem: expect.stringMatching(/the end of the log was deleted/),
    });
  });

  it('an anchor kept elsewhere catches a chain rewritten end to end', async () => {
    const dir = tempDir();
    const { path } = await recordedRun(dir);
    const store = new SqliteStore({ path });
    const anchor = (await store.listAudit())[2]!;
    await store.close();
    // someone with the database rewrites entry 2 and every hash after it, and the head
    const rewritten = join(dir, 'rewritten.db');
    copyFileSync(path, rewritten);
    const db = new DatabaseSync(rewritten);
    db.exec('DROP TRIGGER audit_log_no_update;');
    db.exec("UPDATE audit_log SET decision = 'allow', effect = 'allow' WHERE seq = 2");
    const reader = new SqliteStore({ path: rewritten });
    let prev = genesisHash;
    for (const record of await reader.listAudit()) {
      const hash = auditHash(record.seq, prev, record);
      db.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?').run(
        prev,
        hash,
        record.seq,
      );
      prev = hash;
    }
    await reader.close();
    db.prepare('UPDATE audit_head SET hash = ?').run(prev);
    db.close();
    expect(await verifyFile(rewritten)).toMatchObject({ ok: true });
    expect(await verifyFile(rewritten, { seq: anchor.seq, hash: anchor.hash })).toMatchObject({
      ok: false,
      seq: 3,
      problem: expect.stringMatching(/not the one anchored/),
    });
  });
});
