import { Agent } from '@mastra/core/agent';
import { createTool } from '@mastra/core/tools';
import { z } from 'zod';
import { lookup } from '../tool-ledger.ts';
import { instructions, toolDescription, toolName } from '../workloads.ts';
import type { BenchAgent, Framework } from './framework.ts';

const lookupTool = createTool({
  id: toolName,
  description: toolDescription,
  inputSchema: z.object({ key: z.string() }),
  execute: async ({ key }) => lookup(key),
});

/** `agent.stream`, or `agent.generate` (which asks the model for whole, unstreamed answers). */
function mastraFramework(stream: boolean): Framework {
  return {
    async createAgent({ baseUrl, maxSteps }): Promise<BenchAgent> {
      const agent = new Agent({
        id: 'bench',
        name: 'bench',
        instructions,
        model: { id: 'bench/bench-model', url: baseUrl, apiKey: 'bench' },
        tools: { [toolName]: lookupTool },
      });
      return {
        async run(task) {
          if (!stream) return (await agent.generate(task, { maxSteps })).text;
          const output = await agent.stream(task, { maxSteps });
          return await output.text;
        },
      };
    },
  };
}

export const mastra = mastraFramework(true);
export const mastraGenerate = mastraFramework(false);
