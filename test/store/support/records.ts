import type { ApprovalRequest } from '../../../src/core/approval.ts';
import type { AuditEntry } from '../../../src/core/audit.ts';
import type { RunEvent } from '../../../src/core/events.ts';
import type { Memory } from '../../../src/core/memory.ts';
import type { TeamRecord } from '../../../src/store/team-store.ts';

/** Records the contract suite writes: small, valid, each a function of its ids. */
export const usage = {
  inputTokens: 10,
  outputTokens: 5,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};

export function started(
  runId: string,
  task = 'task',
  extra: Record<string, unknown> = {},
): RunEvent {
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
      ...extra,
    },
  } as RunEvent;
}

export function request(runId: string, seq: number): RunEvent {
  return {
    runId,
    seq,
    at: '2026-11-22T00:00:01.000Z',
    type: 'model.request',
    data: { turn: seq, model: 'scripted/x', messageCount: 1, toolCount: 0 },
  };
}

export function finished(runId: string, seq: number, at = '2026-11-22T00:00:02.000Z'): RunEvent {
  return {
    runId,
    seq,
    at,
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

export function auditEntry(runId: string | null, n: number): AuditEntry {
  return {
    at: `2026-11-22T00:00:${String(n % 60).padStart(2, '0')}.000Z`,
    runId,
    callId: runId ? `call_${n}` : null,
    principal: 'Agent::"a"',
    user: 'ann',
    action: 'fs.write',
    resource: 'File::"notes.txt"',
    inputDigest: 'd'.repeat(64),
    decision: 'allow',
    effect: 'allow',
    mode: 'enforce',
    policies: ['policy0'],
    errors: [],
    reason: `decision ${n}`,
    latencyUs: 120 + n,
  };
}

export function approvalRequest(
  runId: string,
  callId: string,
  expiresAt = '2099-01-01T00:00:00.000Z',
): ApprovalRequest {
  return {
    id: `apr_${runId}_${callId}`,
    runId,
    callId,
    agent: 'a',
    tool: 'write_file',
    action: 'fs.write',
    principal: 'Agent::"a"',
    user: 'ann',
    resource: 'File::"notes.txt"',
    input: { path: 'notes.txt', content: 'hi' },
    inputDigest: 'e'.repeat(64),
    mode: 'enforce',
    policies: ['policy1'],
    reason: 'writes need a yes',
    requestedAt: '2026-11-22T00:00:05.000Z',
    expiresAt,
    auditSeq: 1,
  };
}

export function memory(id: string, overrides: Partial<Memory> = {}): Memory {
  return {
    id,
    namespace: '/actor/ann/prefs',
    kind: 'fact',
    text: `memory ${id}`,
    trust: 'trusted',
    provenance: { runId: 'run_m', events: [1], source: 'user', via: 'extraction', actor: 'ann' },
    status: 'active',
    createdAt: '2026-11-22T00:00:00.000Z',
    updatedAt: '2026-11-22T00:00:00.000Z',
    ...overrides,
  };
}

export function team(id: string): TeamRecord {
  const at = '2026-11-22T00:00:00.000Z';
  return {
    id,
    name: 'crew',
    task: 'a job',
    specPath: '',
    cwd: '/',
    leadRunId: `run_${id}`,
    status: 'running',
    budget: {},
    createdAt: at,
    updatedAt: at,
  };
}
