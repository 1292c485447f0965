import { defineTool, z } from 'agentd';
import { lookupValue, toolDescription, toolName } from '../workloads.ts';

/** The lookup tool as an agent spec loads it, for `agentd run` in the start-up suite: it imports
 * `agentd` as users write it, and gets the copy that runs it. */
export const lookup = defineTool({
  name: toolName,
  description: toolDescription,
  input: z.object({ key: z.string() }),
  idempotent: true,
  execute: ({ key }) => lookupValue(key),
});
