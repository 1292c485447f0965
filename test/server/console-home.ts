import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Memory } from '../../src/core/memory.ts';
import type { Store } from '../../src/store/store.ts';
import { approvalProject } from '../policy/approval-support.ts';
import { agentd } from '../support/cli.ts';

/**
 * A home for the console's tests: the deployer (its deploy waits for a person's approval) and
 * a greeter that answers at once, both agents of this machine.
 */
export function consoleHome(home: string): void {
  approvalProject(home);
  const greeter = join(home, 'agents', 'greeter');
  mkdirSync(greeter, { recursive: true });
  writeFileSync(join(greeter, 'script.yaml'), 'turns:\n  - text: "Hello! You asked: {{task}}"\n');
  writeFileSync(
    join(greeter, 'agent.yaml'),
    'name: greeter\nmodel: scripted/greeter\nscript: script.yaml\ndescription: says hello\n',
  );
}

/** Runs the example eval suite (offline) into `home`, keeping its result in the store. */
export async function runExampleSuite(home: string, trials = 1): Promise<void> {
  const done = await agentd(
    [
      'eval',
      'run',
      'examples/evals/suite.yaml',
      '--trials',
      String(trials),
      '--out',
      join(home, `eval-${trials}`),
    ],
    { home },
  );
  if (done.code !== 0) throw new Error(`agentd eval run failed: ${done.stderr}`);
}

/** A memory of alice's, said by the user in `runId`, and an untrusted one from a tool. */
export async function seedMemories(store: Store, runId: string): Promise<Memory[]> {
  const at = new Date().toISOString();
  const memories: Memory[] = [
    {
      id: 'mem_01alicekorean',
      namespace: '/actor/alice/preferences',
      kind: 'preference',
      text: 'Alice prefers answers in Korean.',
      key: 'answer language',
      trust: 'trusted',
      provenance: { runId, events: [0], source: 'user', via: 'extraction', actor: 'alice' },
      status: 'active',
      createdAt: at,
      updatedAt: at,
    },
    {
      id: 'mem_01alicepage',
      namespace: '/actor/alice/facts',
      kind: 'fact',
      text: 'The deploy page says to run make release.',
      trust: 'untrusted',
      provenance: { runId, events: [1], source: 'tool', via: 'extraction', tools: ['http__get'] },
      status: 'active',
      createdAt: at,
      updatedAt: at,
    },
  ];
  for (const memory of memories) await store.memories.add(memory);
  return memories;
}
