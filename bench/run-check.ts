import { takeToolCalls } from './tool-ledger.ts';
import { expectedAnswer, expectedToolCalls, type Workload } from './workloads.ts';

/**
 * Checks one finished run: the final answer the fake model gives only to a run that sent it
 * every tool result (with the right values) in the right number of requests, and the tool
 * calls the run made. Returns what is wrong, or undefined.
 */
export function checkRun(workload: Workload, tag: string, output: string): string | undefined {
  const calls = takeToolCalls(tag);
  const expected = expectedAnswer(workload, tag);
  if (output.trim() !== expected) return `answer "${output.slice(0, 120)}", expected "${expected}"`;
  if (calls !== expectedToolCalls(workload)) {
    return `${calls} tool calls, expected ${expectedToolCalls(workload)}`;
  }
  return undefined;
}

let counter = 0;
const prefix = `p${process.pid}x`;

/** A tag no other run of this process has. */
export function nextTag(): string {
  return `${prefix}${++counter}`;
}
