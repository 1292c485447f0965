import type { Config } from '../config/config.ts';
import type { Redactor } from '../core/redact.ts';
import { openStore } from '../store/open-store.ts';
import type { Store } from '../store/store.ts';
import { MemoryBank } from './bank.ts';
import { configuredEmbedder } from './embeddings.ts';

export interface OpenMemory {
  store: Store;
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
  const store = openStore(config, options.redact ? { redact: options.redact } : {});
  // A snapshot of the index is kept beside the SQLite file; on Postgres each process rebuilds
  // the index from the store's vector log.
  const snapshotDir = config.databaseUrl ? undefined : MemoryBank.snapshotDirFor(config.dbPath);
  const bank = new MemoryBank({
    store: store.memories,
    ...(options.redact ? { redact: options.redact } : {}),
    ...(embedding ? { embedder: embedding.embedder } : {}),
    ...(snapshotDir ? { snapshotDir } : {}),
  });
  return {
    store,
    bank,
    secrets: embedding?.secrets ?? [],
    close: () => store.close(),
  };
}
