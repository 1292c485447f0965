import { userInfo } from 'node:os';
import type { Config } from '../config/config.ts';
import { AgentdError } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import { MemoryBank } from './bank.ts';
import { configuredEmbedder } from './embeddings.ts';

export interface OpenMemory {
  store: SqliteStore;
  bank: MemoryBank;
  /** The embedding endpoint's key, when it has one: redact it wherever text is written. */
  secrets: string[];
  close(): Promise<void>;
}

/** The memory bank of this machine's store, with the embedding model config.yaml names. */
export async function openMemory(
  config: Config,
  options: { redact?: Redactor } = {},
): Promise<OpenMemory> {
  const embedding = await configuredEmbedder(config);
  const store = new SqliteStore({
    path: config.dbPath,
    durability: config.durability,
    ...(options.redact ? { redact: options.redact } : {}),
  });
  const bank = new MemoryBank({
    store: store.memories,
    ...(options.redact ? { redact: options.redact } : {}),
    ...(embedding ? { embedder: embedding.embedder } : {}),
    ...(MemoryBank.snapshotDirFor(config.dbPath)
      ? { snapshotDir: MemoryBank.snapshotDirFor(config.dbPath)! }
      : {}),
  });
  return {
    store,
    bank,
    secrets: embedding?.secrets ?? [],
    close: () => store.close(),
  };
}

/**
 * Who runs are for: `--actor`, else AGENTD_ACTOR, else config.yaml's memory.actor, else the
 * name of the user running agentd.
 */
export function actorOf(config: Config, given?: string): string {
  const actor = given ?? config.env.AGENTD_ACTOR ?? config.memory?.actor ?? osUser();
  if (!/^[^/\s]+$/.test(actor)) {
    throw new AgentdError(
      'usage',
      `actor "${actor}" is not an actor id (no "/" or spaces; e.g. --actor alice)`,
    );
  }
  return actor;
}

function osUser(): string {
  try {
    return userInfo().username || 'default';
  } catch {
    return 'default';
  }
}
