import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import { SqliteStore } from '../store/sqlite/sqlite-store.ts';
import type { Store } from '../store/store.ts';
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
  const store = new SqliteStore({
    path: config.dbPath,
    durability: config.durability,
    ...(options.redact ? { redact: options.redact } : {}),
  });
  const { bank, secrets } = await memoryBankOf(store, config, options);
  return { store, bank, secrets, close: () => store.close() };
}

/** The memory bank over a store already open (a server's), with config.yaml's embedding model. */
export async function memoryBankOf(
  store: Pick<Store, 'memories'>,
  config: Config,
  options: { redact?: Redactor } = {},
): Promise<{ bank: MemoryBank; secrets: string[] }> {
  const embedding = await configuredEmbedder(config);
  const bank = new MemoryBank({
    store: store.memories,
    ...(options.redact ? { redact: options.redact } : {}),
    ...(embedding ? { embedder: embedding.embedder } : {}),
    ...(MemoryBank.snapshotDirFor(config.dbPath)
      ? { snapshotDir: MemoryBank.snapshotDirFor(config.dbPath)! }
      : {}),
  });
  return { bank, secrets: embedding?.secrets ?? [] };
}
