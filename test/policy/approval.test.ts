import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { verifyAudit } from '../../src/core/audit.ts';
import type { RunEvent } from '../../src/core/events.ts';
import { foldRun } from '../../src/core/run-state.ts';
import { parseAgentSpec } from '../../src/definition/agent-spec.ts';
import { ScriptedModel } from '../../src/models/scripted-model.ts';
import type { Authorizer, Decision } from '../../src/policy/authorizer.ts';
import { type ApprovalResult, type Approver, ToolGate } from '../../src/policy/gate.ts';
import { checkPolicySet } from '../../src/policy/load.ts';
import { manifestsOf } from '../../src/policy/manifests.ts';
import {
  type AgentDefinition,
  RunSuspension,
  resumeRun,
  runAgent,
} from '../../src/runtime/agent-loop.ts';
import { runToolCall } from '../../src/runtime/tool-runner.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import { tempDir } from '../support/temp-dir.ts';
import { policyFor, writePolicies } from './support.ts';

const approvalPolicies = {
  'deploy.cedar': `@id("look")
permit (principal, action == Action::"look", resource);

@id("deploy-needs-a-person")
@approval("required")
permit (principal, action == Action::"deploy", resource)
when { context.input.target != "moon" };
`,
};

/** Tools whose effects are counted: `deploy` must run only with a person's yes. */
function tools() {
  const deployed: string[] = [];
  const deploy = defineTool({
    name: 'deploy',
    description: 'deploy somewhere',
    input: z.object({ target: z.string() }),
    async execute({ target }) {
      deployed.push(target);
      return `deployed ${target}`;
    },
  });
  const look = defineTool({
    name: 'look',
    description: 'look around',
    input: z.object({}),
    idempotent: true,
    async execute() {
      return 'looked';
    },
  });
  return { deployed, list: [deploy, look] };
}

function scriptedModel() {
  return new ScriptedModel('deployer', {
    turns: [
      {
        text: 'deploying',
        tool_calls: [{ name: 'look' }, { name: 'deploy', input: { target: 'prod' } }],
      },
      { text: 'done: {{result:deploy}}' },
    ],
  });
}

/** An authorizer with another approval timeout, over a real Cedar one. */
function withTimeout(inner: Authorizer, approvalTimeoutMs: number): Authorizer {
  if (inner.policy.mode === 'none') throw new Error('expected a policy set');
  return {
    policy: { ...inner.policy, approvalTimeoutMs },
    authorize: (request) => inner.authorize(request),
  };
}

async function setup(options: { timeoutMs?: number; mode?: 'enforce' | 'log_only' } = {}) {
  const dir = tempDir();
  const { deployed, list } = tools();
  const authorizer = await policyFor(dir, approvalPolicies, {
    tools: list,
    agent: 'deployer',
    ...(options.mode ? { mode: options.mode } : {}),
  });
  const path = join(dir, 'agentd.db');
  const store = new SqliteStore({ path });
  const agent: AgentDefinition = {
    name: 'deployer',
    instructions: 'deploy',
    model: scriptedModel(),
    tools: list,
    policy: options.timeoutMs ? withTimeout(authorizer, options.timeoutMs) : authorizer,
  };
  /** Another connection to the same database, as another process answering would have. */
  const other = () => new SqliteStore({ path });
  return { dir, path, store, agent, deployed, other };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const until = Date.now() + 60_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pendingApproval = (store: SqliteStore) =>
  waitFor(async () => (await store.listApprovals({ status: 'pending' }))[0], 'a pending approval');

const ofType = <T extends RunEvent['type']>(events: RunEvent[], type: T) =>
  events.filter((e): e is Extract<RunEvent, { type: T }> => e.type === type);

describe('human approval of tool calls', () => {
  it('pauses the run: awaiting_approval in the fold, the run list and the store, with the call, its arguments and why; approve lets the call run through the gate', async () => {
    const { store, agent, deployed, other } = await setup();
    const running = runAgent({ store, agent, task: 'deploy it' });
    const request = await pendingApproval(store);

    expect(request).toMatchObject({
      agent: 'deployer',
      tool: 'deploy',
      action: 'deploy',
      input: { target: 'prod' },
      policies: ['deploy-needs-a-person'],
      status: 'pending',
      principal: 'Agent::"deployer"',
    });
    expect(request.reason).toMatch(/permitted by deploy-needs-a-person, with a person's approval/);
    expect(Date.parse(request.expiresAt) - Date.parse(request.requestedAt)).toBe(60 * 60_000);
    const events = await store.readEvents(request.runId);
    expect(foldRun(request.runId, events).status).toBe('awaiting_approval');
    expect((await store.getRun(request.runId))?.status).toBe('awaiting_approval');
    expect((await store.listRuns({ status: 'awaiting_approval' })).map((r) => r.id)).toEqual([
      request.runId,
    ]);
    const [asked] = ofType(events, 'approval.requested');
    expect(asked?.data).toMatchObject({
      approvalId: request.id,
      name: 'deploy',
      input: { target: 'prod' },
      policies: ['deploy-needs-a-person'],
      auditSeq: request.auditSeq,
    });
    expect(ofType(events, 'policy.decision').map((e) => [e.data.name, e.data.decision])).toEqual([
      ['look', 'allow'],
      ['deploy', 'needs_approval'],
    ]);
    expect(deployed).toEqual([]);

    const answerer = other();
    const answered = await answerer.answerApproval(request.id, {
      status: 'approved',
      by: 'alice',
      reason: 'release day',
      at: new Date().toISOString(),
    });
    await answerer.close();
    expect(answered?.answered).toBe(true);
    const { state } = await running;
    expect(state.status).toBe('completed');
    expect(deployed).toEqual(['prod']);
    const after = await store.readEvents(request.runId);
    expect(ofType(after, 'approval.answered').map((e) => e.data)).toEqual([
      expect.objectContaining({ answer: 'approved', by: 'alice', reason: 'release day' }),
    ]);
    expect(ofType(after, 'tool.result').find((e) => e.data.name === 'deploy')?.data).toMatchObject({
      isError: false,
      output: 'deployed prod',
    });
    expect(state.output).toBe('[scripted] done: deployed prod');
    expect((await store.getRun(request.runId))?.status).toBe('completed');

    // the request and the answer are both in the chained audit log
    const audit = await store.listAudit({ runId: request.runId });
    expect(audit.map((a) => [a.action, a.decision, a.effect])).toEqual([
      ['look', 'allow', 'allow'],
      ['deploy', 'needs_approval', 'needs_approval'],
      ['deploy', 'approved', 'allow'],
    ]);
    expect(audit[2]?.reason).toBe(`approval ${request.id}: approved by alice: release day`);
    expect(verifyAudit(await store.listAudit(), await store.auditHead()).ok).toBe(true);
    await store.close();
  });

  it('deny: the call does not run, and the model is told who denied it and why', async () => {
    const { store, agent, deployed, other } = await setup();
    const running = runAgent({ store, agent, task: 'deploy it' });
    const request = await pendingApproval(store);
    const answerer = other();
    await answerer.answerApproval(request.id, {
      status: 'denied',
      by: 'bob',
      reason: 'not on a Friday',
      at: new Date().toISOString(),
    });
    await answerer.close();
    const { state } = await running;
    expect(state.status).toBe('completed');
    expect(deployed).toEqual([]);
    const events = await store.readEvents(request.runId);
    const result = ofType(events, 'tool.result').find((e) => e.data.name === 'deploy')!.data;
    expect(result).toMatchObject({ isError: true, errorKind: 'denied' });
    expect(result.output).toBe(
      `Denied by bob: not on a Friday (approval ${request.id}). The call did not run.`,
    );
    // what the model saw next
    const toolMessage = state.messages.find((m) => m.role === 'tool');
    expect(JSON.stringify(toolMessage)).toContain('Denied by bob: not on a Friday');
    const audit = await store.listAudit({ runId: request.runId });
    expect(audit.at(-1)).toMatchObject({ decision: 'denied', effect: 'deny' });
    await store.close();
  });

  it('a timeout denies, and an answer after it changes nothing', async () => {
    const { store, agent, deployed, other } = await setup({ timeoutMs: 400 });
    const started = Date.now();
    const { runId, state } = await runAgent({ store, agent, task: 'deploy it' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(state.status).toBe('completed');
    expect(deployed).toEqual([]);
    const [request] = await store.listApprovals({ runId });
    expect(request).toMatchObject({ status: 'timed_out', answeredBy: 'agentd' });
    const events = await store.readEvents(runId);
    expect(ofType(events, 'run.started')[0]?.data.policy).toMatchObject({
      approvalTimeoutMs: 400,
    });
    const result = ofType(events, 'tool.result').find((e) => e.data.name === 'deploy')!.data;
    expect(result.output).toMatch(/^Denied: no answer within \d+ms \(approval apr_\w+\)\./);
    const late = other();
    const answer = await late.answerApproval(request!.id, {
      status: 'approved',
      by: 'alice',
      at: new Date().toISOString(),
    });
    await late.close();
    expect(answer).toMatchObject({ answered: false, record: { status: 'timed_out' } });
    expect((await store.listAudit({ runId })).at(-1)).toMatchObject({
      decision: 'timed_out',
      effect: 'deny',
    });
    await store.close();
  });

  it('two answers at once: the first wins, the second gets the request as it was closed', async () => {
    const { store, agent, other } = await setup();
    const running = runAgent({ store, agent, task: 'deploy it' });
    const request = await pendingApproval(store);
    const a = other();
    const b = other();
    const at = new Date().toISOString();
    const [first, second] = await Promise.all([
      a.answerApproval(request.id, { status: 'denied', by: 'bob', reason: 'no', at }),
      b.answerApproval(request.id, { status: 'approved', by: 'alice', at }),
    ]);
    await a.close();
    await b.close();
    expect(first?.answered).toBe(true);
    expect(second).toMatchObject({
      answered: false,
      record: { status: 'denied', answeredBy: 'bob' },
    });
    await running;
    // one answer in the audit log, not two
    const audit = await store.listAudit({ runId: request.runId });
    expect(audit.filter((e) => e.action === 'deploy').map((e) => e.decision)).toEqual([
      'needs_approval',
      'denied',
    ]);
    await store.close();
  });

  it('a run suspended while it waits keeps its request; resumed, it honours an answer given meanwhile, with no second request', async () => {
    const { store, agent, deployed, other } = await setup();
    const controller = new AbortController();
    const running = runAgent({ store, agent, task: 'deploy it', signal: controller.signal });
    const request = await pendingApproval(store);
    controller.abort(new RunSuspension('agentd serve is shutting down'));
    const { state } = await running;
    expect(state.status).toBe('suspended');
    let events = await store.readEvents(request.runId);
    expect(ofType(events, 'tool.result').map((e) => e.data.name)).toEqual(['look']);
    expect((await store.getApproval(request.id))?.status).toBe('pending');

    const answerer = other();
    await answerer.answerApproval(request.id, {
      status: 'approved',
      by: 'carol',
      at: new Date().toISOString(),
    });
    await answerer.close();
    const resumed = await resumeRun({ store, agent, runId: request.runId });
    expect(resumed.state.status).toBe('completed');
    expect(deployed).toEqual(['prod']);
    expect(await store.listApprovals({ runId: request.runId })).toHaveLength(1);
    events = await store.readEvents(request.runId);
    expect(ofType(events, 'approval.requested')).toHaveLength(1);
    expect(ofType(events, 'approval.answered').map((e) => [e.data.answer, e.data.by])).toEqual([
      ['approved', 'carol'],
    ]);
    await store.close();
  });

  it('cancelling a run that waits closes its request as cancelled', async () => {
    const { store, agent, deployed } = await setup();
    const controller = new AbortController();
    const running = runAgent({ store, agent, task: 'deploy it', signal: controller.signal });
    const request = await pendingApproval(store);
    controller.abort(new Error('cancelled by the user'));
    const { state } = await running;
    expect(state.status).toBe('cancelled');
    expect(deployed).toEqual([]);
    expect((await store.getApproval(request.id))?.status).toBe('cancelled');
    const events = await store.readEvents(request.runId);
    expect(ofType(events, 'tool.result').find((e) => e.data.name === 'deploy')?.data).toMatchObject(
      { errorKind: 'cancelled' },
    );
    await store.close();
  });

  it('in a log-only set, a call that would need approval is recorded so and runs without waiting', async () => {
    const { store, agent, deployed } = await setup({ mode: 'log_only' });
    const { runId, state } = await runAgent({ store, agent, task: 'deploy it' });
    expect(state.status).toBe('completed');
    expect(deployed).toEqual(['prod']);
    expect(await store.listApprovals({ runId })).toEqual([]);
    const decision = ofType(await store.readEvents(runId), 'policy.decision').find(
      (e) => e.data.name === 'deploy',
    )?.data;
    expect(decision).toMatchObject({
      decision: 'needs_approval',
      effect: 'allow',
      approvalPolicies: ['deploy-needs-a-person'],
    });
    await store.close();
  });

  it('an approved call still runs only through the gate: with its permit, once; no approver, or no yes, no permit', async () => {
    const dir = tempDir();
    const { deployed, list } = tools();
    const authorizer = await policyFor(dir, approvalPolicies, { tools: list, agent: 'deployer' });
    const decisions: Decision[] = [];
    const asked: string[] = [];
    const approver = (outcome: ApprovalResult['outcome']): Approver => ({
      async ask(decision, call) {
        asked.push(`${call.name}:${decision.decision}`);
        return outcome === 'interrupted'
          ? { outcome, approvalId: 'apr_test' }
          : { outcome, approvalId: 'apr_test', by: 'alice', reason: 'because' };
      },
      async release() {},
    });
    const record = async (decision: Decision) => {
      decisions.push(decision);
    };
    const call = { id: 'c1', name: 'deploy', input: { target: 'prod' } };
    const context = {
      runId: 'r',
      callId: 'c1',
      idempotencyKey: 'r:1',
      repeated: false,
      signal: new AbortController().signal,
    };

    const approving = new ToolGate(list, authorizer, record, approver('approved'));
    const other = new ToolGate(list, authorizer, record, approver('approved'));
    const granted = await approving.authorize(call, call.input);
    if (granted.effect !== 'allow') throw new Error('expected a permit');
    expect(granted.decision?.decision).toBe('needs_approval');
    expect(deployed).toEqual([]);
    await expect(other.execute(granted.permit, context)).rejects.toThrow(/not issued/);
    await expect(approving.execute(granted.permit, context)).resolves.toBe('deployed prod');
    await expect(approving.execute(granted.permit, context)).rejects.toThrow(/or was used/);
    expect(deployed).toEqual(['prod']);

    // the runner: approved → runs; denied → a refusal naming who and why, and nothing runs
    const ran = await runToolCall(call, approving, context);
    expect(ran).toMatchObject({ isError: false, output: 'deployed prod' });
    const refused = await runToolCall(
      call,
      new ToolGate(list, authorizer, record, approver('denied')),
      context,
    );
    expect(refused).toMatchObject({
      isError: true,
      errorKind: 'denied',
      output: 'Denied by alice: because (approval apr_test). The call did not run.',
    });
    const unasked = await runToolCall(call, new ToolGate(list, authorizer, record), context);
    expect(unasked).toMatchObject({ isError: true, errorKind: 'denied' });
    expect(String(unasked.output)).toMatch(/nobody can be asked here, so the call is denied/);
    expect(deployed).toEqual(['prod', 'prod']);
    // only calls that need approval are asked about: look is allowed outright
    await runToolCall({ id: 'c2', name: 'look', input: {} }, approving, context);
    await runToolCall({ id: 'c3', name: 'deploy', input: { target: 'moon' } }, approving, context);
    expect(asked).toEqual([
      'deploy:needs_approval',
      'deploy:needs_approval',
      'deploy:needs_approval',
    ]);
    expect(decisions.at(-1)).toMatchObject({ action: 'deploy', decision: 'deny' });
  });

  it('@approval is checked: only "required", only on a permit, each problem with its place', async () => {
    const dir = tempDir();
    const { list } = tools();
    const folder = writePolicies(dir, {
      'a.cedar': `permit (principal, action == Action::"look", resource);
@approval("maybe")
permit (principal, action == Action::"deploy", resource);
@approval("required")
forbid (principal, action == Action::"deploy", resource);
`,
    });
    const checked = await checkPolicySet(folder, manifestsOf(list));
    expect(
      checked.problems.map((p) => `${p.file.split('/').at(-1)}:${p.line}: ${p.message}`),
    ).toEqual([
      'a.cedar:2: @approval("maybe") is not an approval setting (write @approval("required"))',
      'a.cedar:4: @approval("required") belongs on a permit: a forbid denies, there is nothing to approve',
    ]);
  });

  it('policy.approval_timeout in a spec: a duration; anything else is one line naming it', () => {
    const base = 'name: a\nmodel: scripted/a\nscript: s.yaml\n';
    const spec = parseAgentSpec('agent.yaml', `${base}policy:\n  approval_timeout: 30m\n`);
    expect(spec.policy).toMatchObject({ mode: 'enforce', approvalTimeoutMs: 30 * 60_000 });
    expect(() =>
      parseAgentSpec('agent.yaml', `${base}policy:\n  approval_timeout: soon\n`),
    ).toThrow(/^agent\.yaml: policy\.approval_timeout: "soon" is not a duration/);
  });
});
