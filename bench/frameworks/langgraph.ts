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

export const langgraph: Framework = {
  async createAgent({ baseUrl, maxSteps }): Promise<BenchAgent> {
    const llm = new ChatOpenAI({
      model: 'bench-model',
      apiKey: 'bench',
      streaming: true,
      configuration: { baseURL: baseUrl },
    });
    const agent = createReactAgent({ llm, tools: [lookupTool], prompt: instructions });
    // A model call and a tool call are one super-step each.
    const recursionLimit = 2 * maxSteps + 1;
    return {
      async run(task) {
        const state = await agent.invoke(
          { messages: [{ role: 'user', content: task }] },
          { recursionLimit },
        );
        const last = state.messages.at(-1);
        return typeof last?.content === 'string' ? last.content : String(last?.text ?? '');
      },
    };
  },
};
