import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { stepCountIs, ToolLoopAgent, tool } from 'ai';
import { z } from 'zod';
import { lookup } from '../tool-ledger.ts';
import { instructions, toolDescription, toolName } from '../workloads.ts';
import type { BenchAgent, Framework } from './framework.ts';

const lookupTool = tool({
  description: toolDescription,
  inputSchema: z.object({ key: z.string() }),
  execute: async ({ key }) => lookup(key),
});

/** `agent.stream`, or `agent.generate` (an unstreamed answer per step). */
function aiSdkFramework(stream: boolean): Framework {
  return {
    async createAgent({ baseUrl, maxSteps }): Promise<BenchAgent> {
      const provider = createOpenAICompatible({
        name: 'bench',
        baseURL: baseUrl,
        apiKey: 'bench',
        includeUsage: true,
      });
      const agent = new ToolLoopAgent({
        model: provider.chatModel('bench-model'),
        instructions,
        tools: { [toolName]: lookupTool },
        stopWhen: stepCountIs(maxSteps),
      });
      return {
        async run(task) {
          if (!stream) return (await agent.generate({ prompt: task })).text;
          const result = await agent.stream({ prompt: task });
          return await result.text;
        },
      };
    },
  };
}

export const aiSdk = aiSdkFramework(true);
export const aiSdkGenerate = aiSdkFramework(false);
