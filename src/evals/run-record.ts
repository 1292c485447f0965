import type { RunEvent, RunStatus, ToolErrorKind } from '../core/events.ts';
import { type JsonValue, resultText } from '../core/messages.ts';
import { foldRun } from '../core/run-state.ts';
import type { Usage } from '../core/usage.ts';

/** One tool call of a run with what it returned. */
export interface CallRecord {
  callId: string;
  name: string;
  input: JsonValue;
  /** The model turn that asked for it. */
  turn: number;
  /** Absent when the log has no result (the run stopped before it came back). */
  output?: JsonValue;
  isError: boolean;
  errorKind?: ToolErrorKind;
}

/** One model turn: what it said and the calls it made. */
export interface TurnRecord {
  turn: number;
  text: string;
  calls: CallRecord[];
}

/** A run as evaluators read it: the same facts as its events, arranged for scoring. */
export interface RunRecord {
  runId: string;
  agent: string;
  model: string;
  /** The agent ran on the scripted replay. */
  scripted: boolean;
  task: string;
  instructions: string;
  tools: { name: string; description: string }[];
  status: RunStatus;
  reason?: string;
  detail?: string;
  /** The final answer, when the run gave one. */
  answer?: string;
  turns: TurnRecord[];
  /** Every tool call in the order the model made them. */
  calls: CallRecord[];
  usage: Usage;
  /** null when a model had no known price. */
  costUsd: number | null;
  /** Time the run was active. */
  durationMs: number;
  /** Tool calls a policy refused (by call id). */
  denials: { callId: string; name: string; reason: string }[];
  /** Failures: tool errors, run errors. */
  errors: string[];
  startedAt: string;
  finishedAt?: string;
}

/** Arranges a run's events for evaluators. */
export function runRecord(events: readonly RunEvent[]): RunRecord {
  const first = events[0];
  const runId = first?.runId ?? '';
  const state = foldRun(runId, events);
  const started = first?.type === 'run.started' ? first.data : undefined;
  const turns: TurnRecord[] = [];
  const calls = new Map<string, CallRecord>();
  const denials = new Map<string, { callId: string; name: string; reason: string }>();
  const errors: string[] = [];
  let turn = 0;
  let finished: Extract<RunEvent, { type: 'run.finished' }>['data'] | undefined;
  for (const event of events) {
    switch (event.type) {
      case 'model.response':
        turn = event.data.turn;
        turns.push({ turn, text: event.data.text, calls: [] });
        break;
      case 'tool.call': {
        if (calls.has(event.data.callId)) break;
        const call: CallRecord = {
          callId: event.data.callId,
          name: event.data.name,
          input: event.data.input,
          turn,
          isError: false,
        };
        calls.set(call.callId, call);
        const current = turns.at(-1);
        if (current) current.calls.push(call);
        break;
      }
      case 'tool.result': {
        const call = calls.get(event.data.callId);
        if (!call) break;
        call.output = event.data.output;
        call.isError = event.data.isError;
        if (event.data.errorKind) call.errorKind = event.data.errorKind;
        // `denied` (newer logs): a policy refused the call; it did not run.
        if ((event.data.errorKind as string | undefined) === 'denied') {
          denials.set(call.callId, {
            callId: call.callId,
            name: call.name,
            reason: resultText(event.data.output),
          });
        } else if (event.data.isError) {
          errors.push(`${call.name}: ${firstLine(resultText(event.data.output))}`);
        }
        break;
      }
      case 'run.error':
        errors.push(`${event.data.code}: ${event.data.message}`);
        break;
      case 'run.finished':
        finished = event.data;
        break;
      default:
        // Policy decisions (newer logs): a refusal the tool result may not say itself.
        if ((event.type as string) === 'policy.decision') {
          const d = event.data as unknown as {
            callId?: string;
            name?: string;
            effect?: string;
            reason?: string;
          };
          if (d.effect === 'deny' && d.callId && !denials.has(d.callId)) {
            denials.set(d.callId, {
              callId: d.callId,
              name: d.name ?? '',
              reason: d.reason ?? 'denied by policy',
            });
          }
        }
    }
  }
  const record: RunRecord = {
    runId,
    agent: state.agent,
    model: state.model,
    scripted: Boolean(started?.scripted),
    task: state.task,
    instructions: state.instructions,
    tools: started?.tools ?? [],
    status: state.status,
    turns,
    calls: [...calls.values()],
    usage: state.usage,
    costUsd: state.costKnown ? state.costUsd : null,
    durationMs: finished?.durationMs ?? state.activeMs,
    denials: [...denials.values()],
    errors,
    startedAt: state.startedAt,
  };
  if (state.reason) record.reason = state.reason;
  if (state.detail) record.detail = state.detail;
  const answer = finished?.output ?? (state.status === 'completed' ? state.output : undefined);
  if (answer !== undefined) record.answer = answer;
  if (state.finishedAt) record.finishedAt = state.finishedAt;
  return record;
}

/** Whether a run has ended (and may be scored). */
export function isFinished(status: RunStatus): boolean {
  return (
    status === 'completed' ||
    status === 'failed' ||
    status === 'cancelled' ||
    status === 'budget_exceeded'
  );
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** At most `max` characters: the head and the tail, with what was left out said. */
export function clipMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = Math.max(0, max - 40);
  const head = Math.ceil(keep * 0.7);
  const tail = keep - head;
  return `${text.slice(0, head)}\n[... ${text.length - keep} characters left out ...]\n${tail ? text.slice(-tail) : ''}`;
}

/**
 * The run as text for a judge: each turn's words, the calls it made and what they returned
 * (long results clipped), in order.
 */
export function transcript(
  run: RunRecord,
  options: { upToTurn?: number; maxResult?: number; max?: number } = {},
): string {
  const maxResult = options.maxResult ?? 1500;
  const lines: string[] = [];
  for (const turn of run.turns) {
    if (options.upToTurn !== undefined && turn.turn > options.upToTurn) break;
    lines.push(`[turn ${turn.turn}] agent: ${turn.text.trim() || '(no text)'}`);
    for (const call of turn.calls) {
      lines.push(`  -> call ${call.name} ${JSON.stringify(call.input)}`);
      if (call.output === undefined) lines.push(`  <- ${call.name}: (no result)`);
      else
        lines.push(
          `  <- ${call.name}${call.isError ? ' (error)' : ''}: ${clipMiddle(resultText(call.output), maxResult)}`,
        );
    }
  }
  if (lines.length === 0) lines.push('(the agent took no turns)');
  return clipMiddle(lines.join('\n'), options.max ?? 24_000);
}

/** The results of the tool calls made before `turn` (what an answer in that turn may rest on). */
export function resultsBefore(run: RunRecord, turn: number, maxResult = 2000): string {
  const lines: string[] = [];
  for (const call of run.calls) {
    if (call.turn >= turn || call.output === undefined) continue;
    lines.push(
      `- ${call.name} ${JSON.stringify(call.input)}${call.isError ? ' (error)' : ''}:\n${clipMiddle(resultText(call.output), maxResult)}`,
    );
  }
  return clipMiddle(lines.join('\n'), 20_000);
}
