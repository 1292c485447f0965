import { Agent, OpenAIChatCompletionsModel, run, tool } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';
import { lookup } from '../tool-ledger.ts';
import { instructions, toolDescription, toolName } from '../workloads.ts';
import type { BenchAgent, Framework } from './framework.ts';

const lookupTool = tool({
  name: toolName,
  description: toolDescription,
  parameters: z.object({ key: z.string() }),
  execute: async ({ key }) => lookup(key),
});

/** `run(agent, task, { stream: true })`, or `run` without `stream` (unstreamed model calls). */
function openaiAgentsFramework(stream: boolean): Framework {
  return {
    async createAgent({ baseUrl, maxSteps }): Promise<BenchAgent> {
      const client = new OpenAI({ baseURL: baseUrl, apiKey: 'bench' });
      const agent = new Agent({
        name: 'bench',
        instructions,
        model: new OpenAIChatCompletionsModel(client, 'bench-model'),
        tools: [lookupTool],
      });
      return {
        async run(task) {
          if (!stream) {
            const whole = await run(agent, task, { maxTurns: maxSteps });
            return String(whole.finalOutput ?? '');
          }
          const result = await run(agent, task, { stream: true, maxTurns: maxSteps });
          await result.completed;
          if (result.error) throw result.error;
          return String(result.finalOutput ?? '');
        },
      };
    },
  };
}

export const openaiAgents = openaiAgentsFramework(true);
export const openaiAgentsWhole = openaiAgentsFramework(false);
