import { lookup } from '../tool-ledger.ts';
import { instructions, toolDescription, toolName } from '../workloads.ts';
import type { BenchAgent, Framework } from './framework.ts';

interface ToolCallSoFar {
  id: string;
  name: string;
  arguments: string;
}

interface ChunkChoice {
  delta?: {
    content?: string | null;
    tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[];
  };
}

const tools = [
  {
    type: 'function',
    function: {
      name: toolName,
      description: toolDescription,
      parameters: {
        type: 'object',
        properties: { key: { type: 'string' } },
        required: ['key'],
        additionalProperties: false,
      },
    },
  },
];

/**
 * The baseline: the least an agent loop can do over HTTP. Sends the conversation, parses
 * the SSE stream by hand, runs the tool calls, repeats. No validation, no log, no retries.
 */
export const rawFetch: Framework = {
  async createAgent({ baseUrl, maxSteps }): Promise<BenchAgent> {
    const url = `${baseUrl}/chat/completions`;
    return {
      async run(task) {
        const messages: object[] = [
          { role: 'system', content: instructions },
          { role: 'user', content: task },
        ];
        for (let step = 0; step < maxSteps; step++) {
          const response = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: 'Bearer bench' },
            body: JSON.stringify({
              model: 'bench-model',
              messages,
              tools,
              stream: true,
              stream_options: { include_usage: true },
            }),
          });
          if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
          let text = '';
          const calls: ToolCallSoFar[] = [];
          let buffer = '';
          const decoder = new TextDecoder();
          for await (const bytes of response.body) {
            buffer += decoder.decode(bytes, { stream: true });
            let end = buffer.indexOf('\n\n');
            while (end !== -1) {
              const event = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              end = buffer.indexOf('\n\n');
              if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
              const chunk = JSON.parse(event.slice(6)) as { choices: ChunkChoice[] };
              const delta = chunk.choices[0]?.delta;
              if (!delta) continue;
              if (delta.content) text += delta.content;
              for (const part of delta.tool_calls ?? []) {
                let call = calls[part.index];
                if (!call) {
                  call = { id: '', name: '', arguments: '' };
                  calls[part.index] = call;
                }
                if (part.id) call.id = part.id;
                if (part.function?.name) call.name = part.function.name;
                if (part.function?.arguments) call.arguments += part.function.arguments;
              }
            }
          }
          if (calls.length === 0) return text;
          messages.push({
            role: 'assistant',
            content: text || null,
            tool_calls: calls.map((call) => ({
              id: call.id,
              type: 'function',
              function: { name: call.name, arguments: call.arguments },
            })),
          });
          for (const call of calls) {
            const { key } = JSON.parse(call.arguments) as { key: string };
            messages.push({ role: 'tool', tool_call_id: call.id, content: lookup(key) });
          }
        }
        throw new Error(`no final answer in ${maxSteps} steps`);
      },
    };
  },
};
