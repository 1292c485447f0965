import { resultText } from '../core/messages.ts';
import type { Trajectory, TrajectoryTurn } from './trajectory.ts';

/** `openai`: OpenAI's fine-tuning format; `hf`: Hugging Face's `messages` (chat template) format. */
export type ChatFormat = 'openai' | 'hf';

type Message = Record<string, unknown>;

function openaiTurn(turn: TrajectoryTurn): Message[] {
  const assistant: Message = { role: 'assistant', content: turn.text || null };
  if (turn.toolCalls.length) {
    assistant.tool_calls = turn.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: {
        name: call.name,
        arguments: typeof call.input === 'string' ? call.input : JSON.stringify(call.input),
      },
    }));
  }
  return [
    assistant,
    ...turn.results.map((r) => ({
      role: 'tool',
      tool_call_id: r.callId,
      content: resultText(r.output),
    })),
  ];
}

function hfTurn(turn: TrajectoryTurn): Message[] {
  const assistant: Message = { role: 'assistant', content: turn.text };
  if (turn.toolCalls.length) {
    assistant.tool_calls = turn.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.input },
    }));
  }
  return [
    assistant,
    ...turn.results.map((r) => ({
      role: 'tool',
      tool_call_id: r.callId,
      name: r.name,
      content: resultText(r.output),
    })),
  ];
}

function promptMessages(t: Trajectory): Message[] {
  const messages: Message[] = [];
  if (t.instructions) messages.push({ role: 'system', content: t.instructions });
  messages.push({ role: 'user', content: t.prompt });
  return messages;
}

function toolsOf(t: Trajectory): Message[] {
  return t.tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description },
  }));
}

/** The turns as messages in a format (the assistant's turns with their tool results). */
function turnMessages(turns: readonly TrajectoryTurn[], format: ChatFormat): Message[] {
  return turns.flatMap(format === 'openai' ? openaiTurn : hfTurn);
}

/** A chat SFT row: the whole conversation, tools included. */
export function sftRow(t: Trajectory, format: ChatFormat): Record<string, unknown> {
  const row: Record<string, unknown> = {
    messages: [...promptMessages(t), ...turnMessages(t.turns, format)],
  };
  if (t.tools.length) row.tools = toolsOf(t);
  return row;
}

/** The last thing the assistant said: the final answer, or its last text. */
function finalText(t: Trajectory): string {
  return t.answer ?? t.turns.findLast((turn) => turn.text)?.text ?? '';
}

/**
 * A preference pair from two runs of the same task. `openai`: OpenAI's preference (DPO)
 * fine-tuning format, whose outputs are one assistant message each: the final answers. `hf`:
 * TRL's conversational preference format, with the whole trajectories as chosen and rejected.
 */
export function preferenceRow(
  chosen: Trajectory,
  rejected: Trajectory,
  format: ChatFormat,
): Record<string, unknown> {
  if (format === 'openai') {
    const input: Record<string, unknown> = { messages: promptMessages(chosen) };
    if (chosen.tools.length) input.tools = toolsOf(chosen);
    return {
      input,
      preferred_output: [{ role: 'assistant', content: finalText(chosen) }],
      non_preferred_output: [{ role: 'assistant', content: finalText(rejected) }],
    };
  }
  return {
    prompt: promptMessages(chosen),
    chosen: turnMessages(chosen.turns, 'hf'),
    rejected: turnMessages(rejected.turns, 'hf'),
  };
}
