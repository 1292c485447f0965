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
  const store = openStore(config, options.redact ? { redact: options.redact } : {});
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
  // A snapshot of the index is kept beside the SQLite file; on Postgres each process rebuilds
  // the index from the store's vector log.
  const snapshotDir = config.databaseUrl ? undefined : MemoryBank.snapshotDirFor(config.dbPath);
  const bank = new MemoryBank({
    store: store.memories,
    ...(options.redact ? { redact: options.redact } : {}),
    ...(embedding ? { embedder: embedding.embedder } : {}),
    ...(snapshotDir ? { snapshotDir } : {}),
  });
  return { bank, secrets: embedding?.secrets ?? [] };
}
