/**
 * The four workloads, identical for every framework. The fake model decides each answer from
 * the conversation it is sent (how many tool results it holds), so every framework gets the
 * same responses, and the final answer quotes what the model saw (result count, their sum,
 * requests made for the run) so a framework that does less is caught, not timed.
 */
/** `a`–`d` are the peer workloads; `l` is the long run of the steps suite. */
export type WorkloadName = 'a' | 'b' | 'c' | 'd' | 'l';

export interface Workload {
  name: WorkloadName;
  title: string;
  /** Tool calls the model asks for in each tool-calling turn. */
  callsPerTurn: number;
  /** Turns that ask for tool calls; one more turn gives the final answer. */
  toolTurns: number;
}

export const workloads: Record<WorkloadName, Workload> = {
  a: { name: 'a', title: '1 tool call', callsPerTurn: 1, toolTurns: 1 },
  b: { name: 'b', title: '4 model calls', callsPerTurn: 1, toolTurns: 3 },
  c: { name: 'c', title: '10 parallel tools', callsPerTurn: 10, toolTurns: 1 },
  d: { name: 'd', title: '200 steps', callsPerTurn: 1, toolTurns: 199 },
  l: { name: 'l', title: '1,000 steps', callsPerTurn: 1, toolTurns: 999 },
};

/** The workloads every framework runs. */
export const workloadNames: readonly WorkloadName[] = ['a', 'b', 'c', 'd'];

export function isWorkloadName(value: string): value is WorkloadName {
  return Object.hasOwn(workloads, value);
}

/** Model requests a correct run makes. */
export function expectedRequests(w: Workload): number {
  return w.toolTurns + 1;
}

/** Tool calls a correct run makes. */
export function expectedToolCalls(w: Workload): number {
  return w.toolTurns * w.callsPerTurn;
}

/** A step limit that never binds on a correct run (frameworks count steps differently). */
export function stepLimit(w: Workload): number {
  return expectedRequests(w) + 5;
}

export const toolName = 'lookup';
export const toolDescription = 'Look up the number stored under a key.';
export const instructions =
  'You are a benchmark agent. Call the lookup tool for every key you are asked about, then report the total.';

/** The task names the run, so the fake model can count its requests. */
export function taskFor(tag: string): string {
  return `Run ${tag}. Look up the keys you are given and report the total.`;
}

export function tagOf(task: string): string | undefined {
  return /^Run ([A-Za-z0-9_-]+)\./.exec(task)?.[1];
}

/** The number stored under tool call `index` of a run. */
export function valueAt(index: number): number {
  return (index * 37 + 11) % 101;
}

export function keyFor(tag: string, index: number): string {
  return `${tag}.${index}`;
}

/** What the tool returns for a key: a string, so every framework passes it on unchanged. */
export function lookupValue(key: string): string {
  const index = Number(key.slice(key.lastIndexOf('.') + 1));
  return String(valueAt(index));
}

export function finalAnswer(tag: string, results: number, total: number, requests: number): string {
  return `done ${tag} results=${results} total=${total} requests=${requests}`;
}

/** The final answer a correct run ends with. */
export function expectedAnswer(w: Workload, tag: string): string {
  const calls = expectedToolCalls(w);
  let total = 0;
  for (let i = 0; i < calls; i++) total += valueAt(i);
  return finalAnswer(tag, calls, total, expectedRequests(w));
}
