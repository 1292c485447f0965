import { AIMessageChunk } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import { lookup } from '../tool-ledger.ts';
import { instructions, toolDescription, toolName } from '../workloads.ts';
import type { BenchAgent, Framework } from './framework.ts';

const lookupTool = tool(({ key }) => lookup(key), {
  name: toolName,
  description: toolDescription,
  schema: z.object({ key: z.string() }),
});

/**
 * The prebuilt ReAct agent, streamed with `streamMode: 'messages'` (LangGraph's documented way
 * to stream a model's tokens), which makes ChatOpenAI stream from the model. (`streaming: true`
 * with `invoke` instead estimates token counts with tiktoken, whose encodings it downloads at
 * run time.) The answer is the text of the last AI message streamed.
 */
export const langgraph: Framework = {
  async createAgent({ baseUrl, maxSteps }): Promise<BenchAgent> {
    const llm = new ChatOpenAI({
      model: 'bench-model',
      apiKey: 'bench',
      configuration: { baseURL: baseUrl },
    });
    const agent = createReactAgent({ llm, tools: [lookupTool], prompt: instructions });
    // A model call and a tool call are one super-step each.
    const recursionLimit = 2 * maxSteps + 1;
    return {
      async run(task) {
        const stream = await agent.stream(
          { messages: [{ role: 'user', content: task }] },
          { streamMode: 'messages', recursionLimit },
        );
        let id: string | undefined;
        let text = '';
        for await (const [chunk] of stream) {
          if (!AIMessageChunk.isInstance(chunk)) continue;
          if (chunk.id !== id) {
            id = chunk.id;
            text = '';
          }
          if (typeof chunk.content === 'string') text += chunk.content;
        }
        return text;
      },
    };
  },
};
