import { defineTool, z } from '../../src/index.ts';
import { lookupValue, toolDescription, toolName } from '../workloads.ts';

/** The lookup tool as an agent spec loads it, for `agentd run` in the start-up suite. */
export const lookup = defineTool({
  name: toolName,
  description: toolDescription,
  input: z.object({ key: z.string() }),
  idempotent: true,
  execute: ({ key }) => lookupValue(key),
});
