import { expect, it } from 'vitest';
import { genesisHash, verifyAudit } from '../../src/core/audit.ts';
import { createRedactor } from '../../src/core/redact.ts';
import { approvalRequest, auditEntry, started } from './support/records.ts';
import { describeStores } from './support/stores.ts';

describeStores('the audit log', (kind) => {
  it('chains entries from the genesis hash, moves the head, and lists by run and order', async () => {
    const { store } = await kind.fresh();
    expect(await store.auditHead()).toBeUndefined();
    const first = await store.appendAudit(auditEntry('run_1', 1));
    expect(first).toMatchObject({ seq: 1, prevHash: genesisHash });
    const second = await store.appendAudit(auditEntry(null, 2));
    expect(second.prevHash).toBe(first.hash);
    await store.appendAudit(auditEntry('run_1', 3));
    expect(await store.auditHead()).toEqual({ seq: 3, hash: (await store.listAudit())[2]!.hash });
    expect((await store.listAudit({ runId: 'run_1' })).map((r) => r.seq)).toEqual([1, 3]);
    expect((await store.listAudit({ newestFirst: true, limit: 2 })).map((r) => r.seq)).toEqual([
      3, 2,
    ]);
    expect((await store.listAudit({ afterSeq: 1 })).map((r) => r.seq)).toEqual([2, 3]);
    expect(await store.listAudit()).toContainEqual(first);
    expect(verifyAudit(await store.listAudit(), await store.auditHead()).ok).toBe(true);
  });

  it('writers on several connections at once chain one after another, with no gap or fork', async () => {
    const { store, another } = await kind.fresh();
    const stores = [store, another(), another()];
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => stores[i % 3]!.appendAudit(auditEntry(null, i))),
    );
    const log = await store.listAudit();
    expect(log.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(verifyAudit(log, await store.auditHead()).ok).toBe(true);
  });

  it('redacts the reason and errors before hashing them', async () => {
    const secret = 'sk-test-0123456789abcdefghij';
    const { store } = await kind.fresh({ redact: createRedactor([secret]) });
    await store.appendAudit({ ...auditEntry(null, 1), reason: `saw ${secret}`, errors: [secret] });
    const [record] = await store.listAudit();
    expect(JSON.stringify(record)).not.toContain(secret);
    expect(verifyAudit(await store.listAudit(), await store.auditHead()).ok).toBe(true);
  });
});

describeStores('approvals', (kind) => {
  it('records a request once per call, answers it once (the first answer wins) with its audit entry', async () => {
    const { store, another } = await kind.fresh();
    await store.append([started('run_1')]);
    const asked = await store.requestApproval(approvalRequest('run_1', 'call_1'));
    expect(asked).toMatchObject({ status: 'pending', input: { path: 'notes.txt', content: 'hi' } });
    // the run resumed while it waited: the same request, as it stands
    expect(
      await store.requestApproval({ ...approvalRequest('run_1', 'call_1'), id: 'apr_other' }),
    ).toEqual(asked);
    const other = another();
    const answers = await Promise.all([
      store.answerApproval(asked.id, {
        status: 'approved',
        by: 'ann',
        reason: 'fine',
        at: '2026-11-22T00:00:06.000Z',
      }),
      other.answerApproval(asked.id, {
        status: 'denied',
        by: 'bob',
        at: '2026-11-22T00:00:06.000Z',
      }),
    ]);
    expect(answers.filter((a) => a?.answered)).toHaveLength(1);
    const winner = answers.find((a) => a?.answered)!.record;
    expect(answers.find((a) => !a?.answered)!.record).toEqual(winner);
    expect(winner.answerAuditSeq).toBe(1);
    const audit = await store.listAudit();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ runId: 'run_1', callId: 'call_1', decision: winner.status });
    expect(
      await store.answerApproval('apr_nope', {
        status: 'approved',
        by: 'x',
        at: '2026-11-22T00:00:07.000Z',
      }),
    ).toBeUndefined();
  });

  it('an answer after the deadline closes the request as timed out', async () => {
    const { store } = await kind.fresh();
    await store.append([started('run_1')]);
    const asked = await store.requestApproval(
      approvalRequest('run_1', 'call_1', '2026-11-22T00:00:10.000Z'),
    );
    const late = await store.answerApproval(asked.id, {
      status: 'approved',
      by: 'ann',
      at: '2026-11-22T00:00:11.000Z',
    });
    expect(late).toMatchObject({
      answered: false,
      record: { status: 'timed_out', answeredBy: 'agentd' },
    });
  });

  it('finds requests by unique prefix and lists them by status and run, newest first', async () => {
    const { store } = await kind.fresh();
    await store.append([started('run_1')]);
    await store.append([started('run_2')]);
    const a = await store.requestApproval(approvalRequest('run_1', 'call_1'));
    await store.requestApproval({
      ...approvalRequest('run_2', 'call_1'),
      requestedAt: '2026-11-22T00:00:08.000Z',
    });
    await store.answerApproval(a.id, {
      status: 'denied',
      by: 'ann',
      at: '2026-11-22T00:00:09.000Z',
    });
    expect((await store.getApproval('apr_run_1'))?.id).toBe(a.id);
    expect(await store.getApproval('apr_run')).toBeUndefined();
    expect((await store.listApprovals()).map((r) => r.runId)).toEqual(['run_2', 'run_1']);
    expect((await store.listApprovals({ status: 'pending' })).map((r) => r.runId)).toEqual([
      'run_2',
    ]);
    expect((await store.listApprovals({ runId: 'run_1' })).map((r) => r.status)).toEqual([
      'denied',
    ]);
    expect(await store.listApprovals({ limit: 1 })).toHaveLength(1);
  });

  it('redacts the arguments and reason of a request', async () => {
    const secret = 'sk-test-0123456789abcdefghij';
    const { store } = await kind.fresh({ redact: createRedactor([secret]) });
    await store.append([started('run_1')]);
    const asked = await store.requestApproval({
      ...approvalRequest('run_1', 'call_1'),
      input: { token: secret },
      reason: `uses ${secret}`,
    });
    expect(JSON.stringify(asked)).not.toContain(secret);
  });
});

describeStores('eval scores', (kind) => {
  const score = (runId: string, evaluator: string, value: number, scoredAt: string) => ({
    runId,
    source: 'online',
    evaluator,
    kind: 'goal',
    level: 'run',
    score: value,
    pass: value >= 0.5,
    threshold: 0.5,
    explanation: 'why',
    scoredAt,
  });

  it('keeps scores with their runs, replacing a rescored evaluator, most recently scored runs first', async () => {
    const { store } = await kind.fresh();
    await store.append([started('run_1')]);
    await store.append([started('run_2')]);
    await store.putEvalScores([
      score('run_1', 'goal', 0.9, '2026-11-22T00:00:01.000Z'),
      {
        ...score('run_1', 'cost', 0.2, '2026-11-22T00:00:01.000Z'),
        error: 'no price',
        judge: { model: 'm', usage: 3 },
      },
      score('run_2', 'goal', 0.4, '2026-11-22T00:00:02.000Z'),
    ]);
    await store.putEvalScores([score('run_1', 'goal', 0.1, '2026-11-22T00:00:03.000Z')]);
    const all = await store.listEvalScores();
    expect(all.map((s) => `${s.runId}/${s.evaluator}=${s.score}:${s.pass}`)).toEqual([
      'run_1/goal=0.1:false',
      'run_1/cost=0.2:false',
      'run_2/goal=0.4:false',
    ]);
    expect(all[1]).toMatchObject({
      error: 'no price',
      judge: { model: 'm', usage: 3 },
      agent: 'a',
    });
    expect((await store.listEvalScores({ runs: 1 })).map((s) => s.runId)).toEqual([
      'run_1',
      'run_1',
    ]);
    expect((await store.listEvalScores({ runId: 'run_2' })).map((s) => s.score)).toEqual([0.4]);
    expect(await store.listEvalScores({ source: 'offline' })).toEqual([]);
    await expect(
      store.putEvalScores([score('run_x', 'goal', 1, '2026-11-22T00:00:04.000Z')]),
    ).rejects.toThrow();
  });
});
