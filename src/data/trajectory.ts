import type { RunEvent, RunPolicy, RunStatus } from '../core/events.ts';
import type { JsonValue, ToolCall } from '../core/messages.ts';
import { foldRun, instructionsOf, pinnedText } from '../core/run-state.ts';

/** One tool result as the model was shown it. */
export interface TrajectoryResult {
  callId: string;
  name: string;
  output: JsonValue;
  isError: boolean;
}

/** One assistant turn: what the model wrote, which model wrote it, and what its calls returned. */
export interface TrajectoryTurn {
  turn: number;
  /** `provider/model-id` of the model that wrote the turn (from its `model.request`). */
  model: string;
  /** The `model.response` event that holds the turn. */
  seq: number;
  text: string;
  toolCalls: ToolCall[];
  results: TrajectoryResult[];
}

/**
 * A run as a conversation to train on: the instructions and the first message the model saw,
 * then every assistant turn in order with the results of its calls. Turns a compaction took out
 * of the model's view stay: the dataset has what each model wrote, not the shortened context.
 */
export interface Trajectory {
  runId: string;
  agent: string;
  /** The run's model (`run.started`); each turn says which model wrote it. */
  model: string;
  status: RunStatus;
  instructions: string;
  /** The first user message: the context the run started with, then the task. */
  prompt: string;
  task: string;
  tools: { name: string; description: string }[];
  turns: TrajectoryTurn[];
  /** The final answer, when the run gave one. */
  answer?: string;
  /** The policy sets in force over the run (the first, then any a resume set). */
  policies: RunPolicy[];
  firstSeq: number;
  lastSeq: number;
  startedAt: string;
  /** The run's tags as its log leaves them, sorted. */
  tags: string[];
}

/** Folds a run's events into its trajectory. */
export function trajectoryOf(events: readonly RunEvent[]): Trajectory {
  const runId = events[0]?.runId ?? '';
  const state = foldRun(runId, events);
  const started = events[0]?.type === 'run.started' ? events[0].data : undefined;
  const turns: TrajectoryTurn[] = [];
  const byCall = new Map<string, TrajectoryTurn>();
  const policies: RunPolicy[] = started?.policy ? [started.policy] : [];
  let requested = started?.model ?? state.model;
  for (const event of events) {
    switch (event.type) {
      case 'model.request':
        requested = event.data.model || requested;
        break;
      case 'model.response': {
        // A response logged again after a crash replaces nothing: turns are kept once each.
        if (turns.some((t) => t.turn === event.data.turn)) break;
        const turn: TrajectoryTurn = {
          turn: event.data.turn,
          model: requested,
          seq: event.seq,
          text: event.data.text,
          toolCalls: event.data.toolCalls,
          results: [],
        };
        turns.push(turn);
        for (const call of event.data.toolCalls) byCall.set(call.id, turn);
        break;
      }
      case 'tool.result': {
        const turn = byCall.get(event.data.callId);
        if (!turn || turn.results.some((r) => r.callId === event.data.callId)) break;
        turn.results.push({
          callId: event.data.callId,
          name: event.data.name,
          output: event.data.output,
          isError: event.data.isError,
        });
        break;
      }
      case 'run.resumed':
        if (event.data.policy) policies.push(event.data.policy);
        break;
      default:
        break;
    }
  }
  const trajectory: Trajectory = {
    runId,
    agent: state.agent,
    model: state.model,
    status: state.status,
    instructions: instructionsOf(state.instructions, state),
    prompt: pinnedText(state),
    task: state.task,
    tools: started?.tools ?? [],
    turns,
    policies,
    firstSeq: events[0]?.seq ?? 0,
    lastSeq: events.at(-1)?.seq ?? 0,
    startedAt: state.startedAt,
    tags: state.tags,
  };
  if (state.status === 'completed' && state.output !== undefined) trajectory.answer = state.output;
  return trajectory;
}

/** Every model whose text is in the trajectory's assistant turns. */
export function writersOf(trajectory: Trajectory): string[] {
  return [...new Set(trajectory.turns.map((t) => t.model))];
}
