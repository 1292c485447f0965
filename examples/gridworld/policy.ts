import { definePolicy, type Message, type ScriptedTurn, type StepRecord, solveGrid } from 'agentd';

/**
 * A scripted policy for the gridworld, the offline stand-in for a model: it reads the latest
 * observation, plans the shortest path to the goal with agentd's solver, and takes its first
 * step; when the episode is over, it answers. Deterministic and written by hand: a baseline
 * that shows what the best score of each seed is, not intelligence.
 *
 * Pointed at a world model (frames, no grid), it holds "w" (forward) until the episode ends.
 */
export default definePolicy(({ messages, turn }): ScriptedTurn => {
  const last = latestResult(messages);
  if (!last) {
    return {
      text: 'Looking at the world first.',
      tool_calls: [{ name: 'env_observe', input: {} }],
    };
  }
  if (last.terminated || last.truncated || last.over) {
    const how = last.terminated ? 'reached the goal' : 'ran out of steps';
    return { text: `Done: ${how} after ${last.step ?? 0} steps, return ${last.return ?? 0}.` };
  }
  const state = last.observation.state as
    | { grid?: string[]; agent?: [number, number]; keys?: string[] }
    | undefined;
  if (!state?.grid || !state.agent) {
    // A world model: no map to plan on; walk forward.
    return {
      text: `Step ${turn}: forward.`,
      tool_calls: [{ name: 'env_step', input: { keys: ['w'] } }],
    };
  }
  const plan = solveGrid(state.grid, { x: state.agent[0], y: state.agent[1] }, state.keys ?? []);
  if (!plan?.length) return { text: 'The goal cannot be reached from here.' };
  return {
    text: `${plan.length} step${plan.length === 1 ? '' : 's'} to the goal; moving ${plan[0]}.`,
    tool_calls: [{ name: 'env_step', input: { action: plan[0]! } }],
  };
});

type Seen = Partial<StepRecord> & { observation: { state?: unknown }; over?: string };

/** The newest result of env_step or env_observe. */
function latestResult(messages: readonly Message[]): Seen | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i]!;
    if (message.role !== 'tool') continue;
    const found = message.results.findLast(
      (r) => !r.isError && (r.name === 'env_step' || r.name === 'env_observe'),
    );
    if (found && typeof found.output === 'object' && found.output !== null) {
      return found.output as unknown as Seen;
    }
  }
  return undefined;
}
