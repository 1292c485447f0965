import type { ApprovalAnsweredData, RunEvent, RunFinishedData } from '../../core/events.ts';
import type { RunSummary } from '../store.ts';

/**
 * Rows of `runs` and `events`, the same in every store: a run with the last event that set its
 * status, and an event with its data as JSON text.
 */
export interface RunRow {
  id: string;
  agent: string;
  model: string;
  task: string;
  parent_run_id: string | null;
  created_at: string;
  actor?: string | null;
  session_id?: string | null;
  /** The run's tags, sorted, space-separated (a tag has no spaces); null: none. */
  tags?: string | null;
  status_type: string | null;
  status_data: string | null;
  status_at: string | null;
}

export interface EventRow {
  run_id: string;
  seq: number;
  at: string;
  type: string;
  data: string;
}

/** The event types that set a run's status in a listing (the last of them wins). */
export const statusEventTypes = [
  'run.finished',
  'run.needs_attention',
  'run.suspended',
  'run.resumed',
  'approval.requested',
  'approval.answered',
] as const;

/** The statuses' event types as an SQL list: `'run.finished', ...`. */
export const statusEventTypesSql = statusEventTypes.map((type) => `'${type}'`).join(', ');

export function toEvent(row: EventRow): RunEvent {
  return {
    runId: row.run_id,
    seq: row.seq,
    at: row.at,
    type: row.type,
    data: JSON.parse(row.data),
  } as RunEvent;
}

export function toSummary(row: RunRow): RunSummary {
  const summary: RunSummary = {
    id: row.id,
    agent: row.agent,
    model: row.model,
    task: row.task,
    createdAt: row.created_at,
    status: 'running',
  };
  if (row.parent_run_id) summary.parentRunId = row.parent_run_id;
  if (row.actor) summary.actor = row.actor;
  if (row.session_id) summary.sessionId = row.session_id;
  if (row.tags) summary.tags = row.tags.split(' ');
  if (row.status_type === 'run.needs_attention') summary.status = 'needs_attention';
  if (row.status_type === 'run.suspended') summary.status = 'suspended';
  if (row.status_type === 'approval.requested') summary.status = 'awaiting_approval';
  if (row.status_type === 'approval.answered' && row.status_data) {
    const answered = JSON.parse(row.status_data) as ApprovalAnsweredData;
    if (answered.othersWaiting > 0) summary.status = 'awaiting_approval';
  }
  if (row.status_type === 'run.finished' && row.status_data) {
    const f = JSON.parse(row.status_data) as RunFinishedData;
    summary.status = f.status;
    summary.reason = f.reason;
    summary.turns = f.turns;
    summary.usage = f.usage;
    summary.costUsd = f.costUsd;
    summary.finishedAt = row.status_at ?? undefined;
  }
  return summary;
}

/** `LIKE` pattern text for a literal prefix (escape character `\\`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
