import { writeFileSync } from 'node:fs';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import type { Memory, MemoryFilter } from '../../core/memory.ts';
import { createRedactor } from '../../core/redact.ts';
import { memoryFilterOf } from '../../memory/filter.ts';
import { type OpenMemory, openMemory } from '../../memory/open.ts';
import { clip, paint, table } from '../format.ts';

export interface MemoryFilterFlags {
  actor?: string;
  agent?: string;
  team?: string;
  namespace?: string[];
  kind?: string[];
  untrusted?: boolean;
  json?: boolean;
  limit?: number;
}

async function withMemory<T>(fn: (memory: OpenMemory) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const memory = await openMemory(config);
  try {
    return await fn(memory);
  } finally {
    await memory.close();
  }
}

function filterOf(flags: MemoryFilterFlags): MemoryFilter {
  return memoryFilterOf(flags, (field) => `--${field}`);
}

function row(memory: Memory, score?: number): string[] {
  const trust =
    memory.trust === 'trusted'
      ? memory.provenance.source
      : paint('yellow', `${memory.provenance.source} (untrusted)`, process.stdout);
  return [
    memory.id,
    memory.kind,
    trust,
    memory.namespace,
    ...(score !== undefined ? [score.toFixed(4)] : []),
    clip(memory.text, 70),
  ];
}

/** `agentd memory list`: active memories, newest first. */
export function memoryListCommand(flags: MemoryFilterFlags & { all?: boolean }): Promise<number> {
  return withMemory(async ({ store }) => {
    const memories = await store.memories.list({
      ...filterOf(flags),
      ...(flags.all ? { includeSuperseded: true } : {}),
      limit: flags.limit ?? 50,
    });
    if (flags.json) {
      for (const memory of memories) process.stdout.write(`${JSON.stringify(memory)}\n`);
      return 0;
    }
    if (memories.length === 0) {
      process.stdout.write('no memories (agents write them after runs; see docs/memory.md)\n');
      return 0;
    }
    process.stdout.write(
      `${table(
        ['ID', 'KIND', 'SOURCE', 'NAMESPACE', 'TEXT'],
        memories.map((m) => {
          const cells = row(m);
          if (m.status === 'superseded') cells[1] = `${m.kind} (superseded)`;
          return cells;
        }),
      )}\n`,
    );
    return 0;
  });
}

/** `agentd memory search`: hybrid when an embedding model is configured, else full-text (said so). */
export function memorySearchCommand(query: string, flags: MemoryFilterFlags): Promise<number> {
  if (!query.trim()) throw new AgentdError('usage', 'the query is empty: say what to look for');
  return withMemory(async ({ bank }) => {
    const result = await bank.search(query, filterOf(flags), flags.limit ?? 10);
    if (flags.json) {
      for (const found of result.memories) {
        process.stdout.write(
          `${JSON.stringify({ ...found.memory, score: found.score, ranks: found.ranks, mode: result.mode })}\n`,
        );
      }
    } else if (result.memories.length === 0) {
      process.stdout.write(`no memory matches "${query}"\n`);
    } else {
      process.stdout.write(
        `${table(
          ['ID', 'KIND', 'SOURCE', 'NAMESPACE', 'SCORE', 'TEXT'],
          result.memories.map((m) => row(m.memory, m.score)),
        )}\n`,
      );
    }
    process.stderr.write(
      `${paint('dim', `search: ${result.mode}${result.note ? `; ${result.note}` : ''}`)}\n`,
    );
    return 0;
  });
}

/** `agentd memory show`: a memory, where it came from, and the versions it replaced. */
export function memoryShowCommand(id: string, flags: { json?: boolean }): Promise<number> {
  return withMemory(async ({ store, bank }) => {
    const memory = await store.memories.get(id);
    if (!memory) throw unknownMemory(id);
    const history = await store.memories.history(memory.id);
    const vectorModel = await store.memories.vectorModelOf(memory.id);
    if (flags.json) {
      process.stdout.write(
        `${JSON.stringify({ ...memory, history: history.slice(1) }, null, 2)}\n`,
      );
      return 0;
    }
    const p = memory.provenance;
    const lines = [
      `${memory.id}  ${memory.kind}${memory.status === 'superseded' ? ` (superseded by ${memory.supersededBy})` : ''}`,
      `  ${memory.text}`,
      '',
      `namespace   ${memory.namespace}`,
      ...(memory.key ? [`key         ${memory.key}`] : []),
      `trust       ${memory.trust === 'trusted' ? 'trusted' : 'untrusted: recalled only as quoted data, never as instructions'}`,
      `source      ${p.source}${p.tools?.length ? ` (${p.tools.join(', ')})` : ''}${p.note ? `: ${p.note}` : ''}`,
      `written by  ${p.via === 'extraction' ? `extraction${p.extractor ? ` (${p.extractor})` : ''}` : 'the agent (memory.save)'}`,
      ...(p.runId ? [`run         ${p.runId}, events ${p.events.join(', ') || 'none'}`] : []),
      ...(p.agent ? [`agent       ${p.agent}`] : []),
      ...(p.actor ? [`actor       ${p.actor}`] : []),
      ...(p.sessionId ? [`session     ${p.sessionId}`] : []),
      ...(p.confirmedBy?.length ? [`confirmed   ${p.confirmedBy.join(', ')}`] : []),
      `created     ${memory.createdAt}`,
      `updated     ${memory.updatedAt}`,
      `indexed     ${memory.status === 'active' ? `full-text${vectorModel ? `, vector (${vectorModel})` : bank.embedder ? ', no vector yet (found by full-text)' : ' (no embedding model configured)'}` : 'nowhere: superseded (kept for history)'}`,
    ];
    if (history.length > 1) {
      lines.push('', 'earlier versions:');
      for (const old of history.slice(1)) {
        lines.push(`  ${old.id}  ${old.createdAt.slice(0, 19)}  ${clip(old.text, 70)}`);
      }
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  });
}

/** `agentd memory forget`: removed from the store, the full-text index, the vectors and exports. */
export function memoryForgetCommand(id: string): Promise<number> {
  return withMemory(async ({ store, bank }) => {
    const memory = await store.memories.get(id);
    if (!memory) throw unknownMemory(id);
    const removed = await bank.forget(memory.id);
    const earlier = removed.length - 1;
    process.stdout.write(
      `forgot ${memory.id}${earlier > 0 ? ` and ${earlier} earlier version${earlier === 1 ? '' : 's'} it replaced` : ''}: removed from the store, the full-text index and the vector index\n`,
    );
    return 0;
  });
}

/** `agentd memory export --actor`: every memory of an actor, as JSON lines. */
export function memoryExportCommand(flags: { actor?: string; output?: string }): Promise<number> {
  if (!flags.actor) {
    throw new AgentdError('usage', 'export: give --actor <id> (whose memories to export)');
  }
  const actor = flags.actor;
  return withMemory(async ({ store }) => {
    const memories = await store.memories.exportActor(actor);
    const redact = createRedactor([]);
    const text = memories.map((m) => redact(JSON.stringify(m))).join('\n');
    if (flags.output) {
      writeFileSync(flags.output, text ? `${text}\n` : '', { mode: 0o600 });
      process.stderr.write(
        `wrote ${memories.length} memor${memories.length === 1 ? 'y' : 'ies'} of ${actor} to ${flags.output}\n`,
      );
    } else if (text) {
      process.stdout.write(`${text}\n`);
    }
    return 0;
  });
}

function unknownMemory(id: string): AgentdError {
  return new AgentdError(
    'usage',
    `no memory "${id}" (or the prefix names more than one): see agentd memory list`,
  );
}
