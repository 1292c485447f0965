import { lookupValue } from './workloads.ts';

/**
 * Counts the lookup tool's calls per run, so a run is checked for the tool calls it made,
 * not only for its final answer. Every framework's tool calls `lookup` here.
 */
const calls = new Map<string, number>();

export function lookup(key: string): string {
  const tag = key.slice(0, key.lastIndexOf('.'));
  calls.set(tag, (calls.get(tag) ?? 0) + 1);
  return lookupValue(key);
}

/** The tool calls a run made, forgotten once read. */
export function takeToolCalls(tag: string): number {
  const count = calls.get(tag) ?? 0;
  calls.delete(tag);
  return count;
}
