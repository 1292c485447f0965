import { finalAnswer, keyFor, toolName, type Workload } from '../workloads.ts';
import type { Conversation } from './conversation.ts';
import { sseData, sseDone } from './sse.ts';

/**
 * The streamed answer to one request, decided from the conversation: the next batch of tool
 * calls while the workload has tool turns left, then the final answer. Tool-call fragments
 * come keyed by `index` (the first with id and name, then the arguments in two pieces), then
 * a chunk with `finish_reason`, a usage chunk when the client asked for one, and `[DONE]`.
 */
export function replyBody(
  workload: Workload,
  conversation: Conversation,
  requests: number,
  model: string,
  includeUsage: boolean,
): { body: string; final: boolean } {
  const tag = conversation.tag ?? 'unknown';
  const base = {
    id: `chatcmpl-${tag}-${requests}`,
    object: 'chat.completion.chunk',
    created: 0,
    model,
  };
  const chunk = (delta: object, finishReason: string | null = null): string =>
    sseData({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    });
  let body = '';
  const { results } = conversation;
  const pending = workload.callsPerTurn * workload.toolTurns - results;
  const final = !(pending > 0 && results % workload.callsPerTurn === 0);
  if (!final) {
    body += chunk({ role: 'assistant', content: null });
    for (let j = 0; j < workload.callsPerTurn; j++) {
      const index = results + j;
      const args = JSON.stringify({ key: keyFor(tag, index) });
      const cut = args.length >> 1;
      body += chunk({
        tool_calls: [
          {
            index: j,
            id: `call_${index}`,
            type: 'function',
            function: { name: toolName, arguments: '' },
          },
        ],
      });
      body += chunk({ tool_calls: [{ index: j, function: { arguments: args.slice(0, cut) } }] });
      body += chunk({ tool_calls: [{ index: j, function: { arguments: args.slice(cut) } }] });
    }
    body += chunk({}, 'tool_calls');
  } else {
    // The final answer; a conversation that does not fit the workload gets one that says so.
    const text =
      pending === 0
        ? finalAnswer(tag, results, conversation.total, requests)
        : `unexpected conversation: ${results} tool results`;
    body += chunk({ role: 'assistant', content: '' });
    const third = Math.ceil(text.length / 3);
    for (let i = 0; i < text.length; i += third)
      body += chunk({ content: text.slice(i, i + third) });
    body += chunk({}, 'stop');
  }
  if (includeUsage) {
    body += sseData({
      ...base,
      choices: [],
      usage: {
        prompt_tokens: 100 + results * 10,
        completion_tokens: 20,
        total_tokens: 120 + results * 10,
      },
    });
  }
  return { body: body + sseDone, final };
}
