import { finalAnswer, keyFor, toolName, type Workload } from '../workloads.ts';
import type { Conversation } from './conversation.ts';
import { sseData, sseDone } from './sse.ts';

/**
 * The answer to one request (streamed unless `stream` is false), decided from the conversation: the next batch of tool
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
  stream = true,
): { body: string; final: boolean } {
  if (!stream) return wholeBody(workload, conversation, requests, model);
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

/** The same answer unstreamed: one `chat.completion` object with the message and its usage. */
function wholeBody(
  workload: Workload,
  conversation: Conversation,
  requests: number,
  model: string,
): { body: string; final: boolean } {
  const tag = conversation.tag ?? 'unknown';
  const { results } = conversation;
  const pending = workload.callsPerTurn * workload.toolTurns - results;
  const final = !(pending > 0 && results % workload.callsPerTurn === 0);
  const message = final
    ? {
        role: 'assistant',
        content:
          pending === 0
            ? finalAnswer(tag, results, conversation.total, requests)
            : `unexpected conversation: ${results} tool results`,
      }
    : {
        role: 'assistant',
        content: null,
        tool_calls: Array.from({ length: workload.callsPerTurn }, (_, j) => ({
          id: `call_${results + j}`,
          type: 'function',
          function: {
            name: toolName,
            arguments: JSON.stringify({ key: keyFor(tag, results + j) }),
          },
        })),
      };
  const body = JSON.stringify({
    id: `chatcmpl-${tag}-${requests}`,
    object: 'chat.completion',
    created: 0,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: final ? 'stop' : 'tool_calls' }],
    usage: {
      prompt_tokens: 100 + results * 10,
      completion_tokens: 20,
      total_tokens: 120 + results * 10,
    },
  });
  return { body, final };
}
