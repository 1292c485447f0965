import type { RunEvent, Schemas } from '../api/client';

type Data<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>['data'];

/** One model call: the request, its retries, and the answer. */
export interface ModelItem {
  kind: 'model';
  seq: number;
  seqs: number[];
  at: string;
  turn: number;
  request: Data<'model.request'>;
  retries: Data<'model.retry'>[];
  response?: Data<'model.response'>;
}

/** One tool call: what was asked, what policy decided, the approval, the result. */
export interface ToolItem {
  kind: 'tool';
  seq: number;
  seqs: number[];
  at: string;
  callId: string;
  name: string;
  input: unknown;
  decision?: Data<'policy.decision'>;
  approval?: Data<'approval.requested'> & { answer?: Data<'approval.answered'> };
  progress?: Data<'tool.progress'>;
  result?: Data<'tool.result'>;
}

/** An event that stands on its own in the timeline. */
export interface PlainItem {
  kind:
    | 'start'
    | 'compaction'
    | 'budget'
    | 'resume'
    | 'attention'
    | 'suspended'
    | 'error'
    | 'finish';
  seq: number;
  seqs: number[];
  at: string;
  event: RunEvent;
}

export type TimelineItem = ModelItem | ToolItem | PlainItem;

const plainKinds: Partial<Record<RunEvent['type'], PlainItem['kind']>> = {
  'run.started': 'start',
  'context.compacted': 'compaction',
  'budget.warning': 'budget',
  'run.resumed': 'resume',
  'run.needs_attention': 'attention',
  'run.suspended': 'suspended',
  'run.error': 'error',
  'run.finished': 'finish',
};

/**
 * A run's events as the timeline shows them, in order: each model call with its retries and
 * answer; each tool call with its policy decision, approval and result (wherever in the log
 * they came); everything else as it is. A call decided again after a resume keeps one row.
 */
export function foldTimeline(events: readonly RunEvent[]): TimelineItem[] {
  const items: TimelineItem[] = [];
  const calls = new Map<string, ToolItem>();
  let model: ModelItem | undefined;
  for (const event of events) {
    switch (event.type) {
      case 'model.request':
        model = {
          kind: 'model',
          seq: event.seq,
          seqs: [event.seq],
          at: event.at,
          turn: event.data.turn,
          request: event.data,
          retries: [],
        };
        items.push(model);
        break;
      case 'model.retry':
        if (model) {
          model.retries.push(event.data);
          model.seqs.push(event.seq);
        }
        break;
      case 'model.response':
        if (model && !model.response) {
          model.response = event.data;
          model.seqs.push(event.seq);
        }
        break;
      case 'tool.call': {
        const known = calls.get(event.data.callId);
        if (known) {
          known.seqs.push(event.seq);
          break;
        }
        const item: ToolItem = {
          kind: 'tool',
          seq: event.seq,
          seqs: [event.seq],
          at: event.at,
          callId: event.data.callId,
          name: event.data.name,
          input: event.data.input,
        };
        calls.set(item.callId, item);
        items.push(item);
        break;
      }
      case 'policy.decision':
      case 'approval.requested':
      case 'approval.answered':
      case 'tool.progress':
      case 'tool.result': {
        const item = calls.get(event.data.callId);
        if (!item) break;
        item.seqs.push(event.seq);
        if (event.type === 'policy.decision') item.decision = event.data;
        else if (event.type === 'approval.requested') item.approval = { ...event.data };
        else if (event.type === 'approval.answered') {
          if (item.approval) item.approval.answer = event.data;
        } else if (event.type === 'tool.progress') item.progress = event.data;
        else item.result = event.data;
        break;
      }
      default: {
        const kind = plainKinds[event.type];
        if (kind) items.push({ kind, seq: event.seq, seqs: [event.seq], at: event.at, event });
      }
    }
  }
  return items;
}

/** The item that holds event `seq` (a deep link to an event opens its row). */
export function itemIndexOf(items: readonly TimelineItem[], seq: number): number {
  return items.findIndex((item) => item.seqs.includes(seq));
}

/** A tool call's state in one word, for its badge. */
export function toolState(
  item: ToolItem,
): 'running' | 'waiting' | 'denied' | 'failed' | 'done' | 'planned' {
  if (item.result) {
    if (item.result.errorKind === 'denied') return 'denied';
    return item.result.isError ? 'failed' : 'done';
  }
  if (item.approval && !item.approval.answer) return 'waiting';
  if (item.decision) return item.decision.effect === 'deny' ? 'denied' : 'running';
  return 'planned';
}

export type Usage = Schemas['Usage'];

export function totalTokens(usage: Usage): number {
  return usage.inputTokens + usage.outputTokens;
}
