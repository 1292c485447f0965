import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createRedactor } from '../../src/core/redact.ts';
import { ModelCallError } from '../../src/models/model.ts';
import { ScriptedModel } from '../../src/models/scripted-model.ts';
import { type AgentDefinition, runAgent } from '../../src/runtime/agent-loop.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { SpanRecord } from '../../src/telemetry/span-record.ts';
import { storedTrace } from '../../src/telemetry/stored-trace.ts';
import { defineTool } from '../../src/tools/define-tool.ts';
import { policyFor } from '../policy/support.ts';
import { TurnModel } from '../support/models.ts';
import { tempDir } from '../support/temp-dir.ts';

const work = defineTool({
  name: 'work',
  description: 'Does one step.',
  input: z.object({ step: z.string() }),
  idempotent: true,
  execute: ({ step }) => `step ${step} done: checked 12 files, 3 warnings, nothing failed`,
});

const options = {
  captureContent: false,
  redact: createRedactor(),
  legacyNames: false,
  isRunning: async () => false,
};

async function traced(store: SqliteStore, runId: string): Promise<SpanRecord[]> {
  return (await storedTrace(store, runId, options)).spans;
}

const byName = (spans: SpanRecord[], prefix: string) =>
  spans.filter((s) => s.name.startsWith(prefix));

describe("agentd's own spans and attributes", () => {
  it('an approval wait is a child of its tool call: who answered, how, and how long it waited', async () => {
    const dir = tempDir();
    const deploy = defineTool({
      name: 'deploy',
      description: 'deploy somewhere',
      input: z.object({ target: z.string() }),
      execute: async ({ target }) => `deployed ${target}`,
    });
    const policy = await policyFor(
      dir,
      {
        'deploy.cedar':
          '@id("deploy-needs-a-person")\n@approval("required")\npermit (principal, action == Action::"deploy", resource);\n',
      },
      { tools: [deploy], agent: 'deployer' },
    );
    const path = join(dir, 'agentd.db');
    const store = new SqliteStore({ path });
    const other = new SqliteStore({ path });
    const agent: AgentDefinition = {
      name: 'deployer',
      instructions: 'deploy',
      model: new ScriptedModel('deployer', {
        turns: [
          { text: 'deploying', tool_calls: [{ name: 'deploy', input: { target: 'prod' } }] },
          { text: 'done' },
        ],
      }),
      tools: [deploy],
      policy,
    };
    const running = runAgent({ store, agent, task: 'deploy it' });
    let pending = (await other.listApprovals({ status: 'pending' }))[0];
    while (!pending) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      pending = (await other.listApprovals({ status: 'pending' }))[0];
    }
    await other.answerApproval(pending.id, {
      status: 'approved',
      by: 'alice',
      at: new Date().toISOString(),
    });
    const result = await running;
    expect(result.state.status).toBe('completed');
    const spans = await traced(store, result.runId);
    const [tool] = byName(spans, 'execute_tool deploy');
    const [approval] = byName(spans, 'agentd.approval deploy');
    expect(approval!.parentSpanId).toBe(tool!.spanId);
    expect(approval!.attributes).toMatchObject({
      'agentd.approval.id': pending.id,
      'agentd.approval.answer': 'approved',
      'agentd.approval.answered_by': 'alice',
      'agentd.policy.ids': ['deploy-needs-a-person'],
    });
    expect(approval!.attributes['agentd.approval.wait_ms']).toBe(
      approval!.endMs - approval!.startMs,
    );
    expect(approval!.startMs).toBeGreaterThanOrEqual(tool!.startMs);
    expect(tool!.endMs).toBeGreaterThanOrEqual(approval!.endMs);
    expect(tool!.attributes).toMatchObject({
      'agentd.policy.decision': 'needs_approval',
      'agentd.policy.effect': 'needs_approval',
      'agentd.policy.mode': 'enforce',
    });
    expect(tool!.status.code).toBe('unset');
    await other.close();
    await store.close();
  });

  it('budget warnings and stops, provider retries and recalled memories', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const turn = { calls: [{ name: 'work', input: { step: 'next' } }] };
    const result = await runAgent({
      store,
      agent: {
        name: 'busy',
        instructions: 'work',
        model: new TurnModel([
          { fail: new ModelCallError('overloaded', { retryable: true, status: 529 }) },
          turn,
          turn,
          turn,
        ]),
        tools: [work],
        limits: { maxTurns: 2 },
      },
      task: 'keep working',
      retryPolicy: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 1 },
      memory: {
        mode: 'full-text',
        namespaces: ['/actor/alice'],
        memories: [
          { id: 'mem_1', kind: 'preference', trust: 'trusted', source: 'user', score: 1 },
          { id: 'mem_2', kind: 'fact', trust: 'untrusted', source: 'tool', score: 0.5 },
        ],
        tokens: 12,
      },
      session: { id: 'thread-7', previousRuns: [] },
    });
    expect(result.state.status).toBe('budget_exceeded');
    const spans = await traced(store, result.runId);
    const [run] = byName(spans, 'invoke_agent');
    expect(run!.attributes).toMatchObject({
      'agentd.run.status': 'budget_exceeded',
      'agentd.run.reason': 'max_turns',
      'agentd.memory.mode': 'full-text',
      'agentd.memory.recalled': 2,
      'agentd.memory.trusted': 1,
      'agentd.memory.untrusted': 1,
      'gen_ai.conversation.id': 'thread-7',
    });
    expect(run!.status.code).toBe('unset'); // a spent budget is no error
    expect(run!.events.map((e) => e.name)).toEqual([
      'agentd.budget.warning',
      'agentd.budget.exceeded',
    ]);
    expect(run!.events[0]!.attributes).toMatchObject({
      'agentd.budget.name': 'turns',
      'agentd.budget.limit': 2,
    });
    const chats = byName(spans, 'chat');
    expect(chats[0]!.events).toEqual([
      expect.objectContaining({
        name: 'agentd.model.retry',
        attributes: {
          'agentd.retry.attempt': 1,
          'agentd.retry.delay_ms': expect.any(Number),
          'agentd.retry.status': 529,
        },
      }),
    ]);
    expect(chats[0]!.attributes['agentd.model.retries']).toBe(1);
    expect(chats[0]!.attributes['gen_ai.provider.name']).toBe('anthropic');
    expect(chats[0]!.attributes['gen_ai.request.model']).toBe('claude-sonnet-4-5');
    await store.close();
  });

  it('a failed run is an error span with the error type', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const result = await runAgent({
      store,
      agent: {
        name: 'failing',
        instructions: 'work',
        model: new TurnModel([
          { fail: new ModelCallError('invalid x-api-key', { retryable: false, status: 401 }) },
        ]),
        tools: [work],
      },
      task: 'try',
    });
    expect(result.state.status).toBe('failed');
    const spans = await traced(store, result.runId);
    const [run] = byName(spans, 'invoke_agent');
    expect(run!.status).toEqual({ code: 'error', message: 'model_error' });
    expect(run!.attributes['error.type']).toBe('model_error');
    // The message is content: only the error type leaves without capture.
    expect(JSON.stringify(spans)).not.toContain('x-api-key');
    const [chat] = byName(spans, 'chat');
    expect(chat!.attributes['agentd.ended_by']).toBeUndefined();
    await store.close();
  });

  it('tags: on the run span; a change of tags long after opens no span and moves no end', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const result = await runAgent({
      store,
      agent: {
        name: 'tagged',
        instructions: 'work',
        model: new TurnModel([{ text: 'done' }]),
        tools: [work],
        tags: ['team=a', 'spec'],
      },
      task: 'try',
      tags: ['spec', 'own'],
    });
    const events = await store.readEvents(result.runId);
    expect(events[0]).toMatchObject({ data: { tags: ['team=a', 'spec', 'own'] } });
    expect((await store.getRun(result.runId))?.tags).toEqual(['own', 'spec', 'team=a']);
    const [run] = byName(await traced(store, result.runId), 'invoke_agent');
    expect(run!.attributes['agentd.run.tags']).toEqual(['team=a', 'spec', 'own']);
    // the log of a run killed after its first model request, tagged an hour later
    const cut = new SqliteStore({ path: ':memory:' });
    const [started, request] = events;
    await cut.append([started!, request!]);
    const before = await traced(cut, result.runId);
    await cut.append([
      {
        runId: result.runId,
        seq: 2,
        at: new Date(Date.parse(request!.at) + 3_600_000).toISOString(),
        type: 'run.tagged',
        data: { added: ['late'], removed: [], by: 'alice' },
      },
    ]);
    const after = await traced(cut, result.runId);
    expect(after).toEqual(before);
    expect(Math.max(...after.map((span) => span.endMs))).toBe(Date.parse(request!.at));
    await cut.close();
    await store.close();
  });

  it('compaction: tokens before and after, what left, the summarizer', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    const result = await runAgent({
      store,
      agent: {
        name: 'long',
        instructions: 'Work step by step.',
        model: new ScriptedModel('long', {
          turns: [
            {
              text: 'Working.',
              tool_calls: [{ name: 'work', input: { step: 'next' } }],
              repeat: 30,
            },
            { text: 'All done.' },
          ],
        }),
        tools: [work],
        limits: { maxTurns: 60 },
        compaction: { contextWindow: 1200, threshold: 0.8, keepRecentTurns: 2 },
      },
      task: 'Run every step.',
    });
    expect(result.state.status).toBe('completed');
    const spans = await traced(store, result.runId);
    const compactions = byName(spans, 'agentd.compaction');
    expect(compactions.length).toBeGreaterThan(0);
    const [first] = compactions;
    const before = Number(first!.attributes['agentd.compaction.tokens_before']);
    const after = Number(first!.attributes['agentd.compaction.tokens_after']);
    expect(after).toBeLessThan(before);
    expect(first!.attributes['agentd.compaction.removed_messages']).toBeGreaterThan(0);
    expect(first!.attributes['agentd.compaction.mode']).toBe('runtime');
    expect(first!.attributes['agentd.compaction.summary']).toBeUndefined(); // content
    const [run] = byName(spans, 'invoke_agent');
    expect(first!.parentSpanId).toBe(run!.spanId);
    await store.close();
  });
});
