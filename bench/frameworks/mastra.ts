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

export const mastra: Framework = {
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
        const result = await agent.generate(task, { maxSteps });
        return result.text;
      },
    };
  },
};
