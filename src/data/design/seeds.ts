import { readFileSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { AgentdError, errorMessage } from '../../core/errors.ts';
import type { Store } from '../../store/store.ts';
import { trajectoryOf } from '../trajectory.ts';
import type { Design } from './design-spec.ts';
import { Random } from './samplers.ts';

export type SeedRecord = Record<string, unknown>;

/** A seed's records in the order rows take them. */
export interface SeedData {
  records: SeedRecord[];
  /** Row i takes `records[order[i % n]]`. */
  order: number[];
}

async function readFile(path: string, shown: string): Promise<SeedRecord[]> {
  const ext = extname(path).toLowerCase();
  let text: string | undefined;
  if (ext !== '.parquet') {
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new AgentdError('spec_not_found', `${shown}: seed file not found`);
    }
  }
  switch (ext) {
    case '.jsonl':
    case '.ndjson':
      return text!
        .split('\n')
        .map((line, i) => [line, i] as const)
        .filter(([line]) => line.trim())
        .map(([line, i]) => {
          try {
            const value = JSON.parse(line) as unknown;
            if (value && typeof value === 'object' && !Array.isArray(value))
              return value as SeedRecord;
          } catch (error) {
            throw new AgentdError(
              'design_invalid',
              `${shown}:${i + 1}: not JSON (${errorMessage(error)})`,
            );
          }
          throw new AgentdError(
            'design_invalid',
            `${shown}:${i + 1}: a seed line is a JSON object`,
          );
        });
    case '.csv': {
      const { parse } = await import('csv-parse/sync');
      try {
        return parse(text!, { columns: true, skip_empty_lines: true, trim: true }) as SeedRecord[];
      } catch (error) {
        throw new AgentdError(
          'design_invalid',
          `${shown}: not CSV with a header line (${errorMessage(error)})`,
        );
      }
    }
    case '.parquet': {
      const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
      try {
        const file = await asyncBufferFromFile(path);
        return (await parquetReadObjects({ file })) as SeedRecord[];
      } catch (error) {
        throw new AgentdError(
          (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'spec_not_found' : 'design_invalid',
          (error as NodeJS.ErrnoException).code === 'ENOENT'
            ? `${shown}: seed file not found`
            : `${shown}: not a Parquet file (${errorMessage(error)})`,
        );
      }
    }
    default:
      throw new AgentdError('design_invalid', `${shown}: a seed file is .jsonl, .csv or .parquet`);
  }
}

/** Reads every seed a design names; stored runs come from `store` (opened only when a seed needs it). */
export async function loadSeeds(
  design: Design,
  openStore: () => Store,
): Promise<Map<string, SeedData>> {
  const seeds = new Map<string, SeedData>();
  let store: Store | undefined;
  try {
    for (const [key, seed] of Object.entries(design.file.seeds ?? {})) {
      let records: SeedRecord[];
      if ('path' in seed) {
        const path = isAbsolute(seed.path) ? seed.path : resolve(design.dir, seed.path);
        records = await readFile(path, seed.path);
      } else {
        store ??= openStore();
        const runs = await store.listRuns({
          limit: seed.runs.limit ?? 1000,
          status: seed.runs.status ?? 'completed',
        });
        records = [];
        for (const run of runs) {
          if (seed.runs.agent && run.agent !== seed.runs.agent) continue;
          const t = trajectoryOf(await store.readEvents(run.id));
          records.push({
            run_id: run.id,
            agent: run.agent,
            task: t.task,
            answer: t.answer ?? null,
            status: run.status,
          });
        }
      }
      if (!records.length) {
        throw new AgentdError(
          'design_invalid',
          `${design.path}: seeds.${key}: no records (an empty seed gives rows nothing to take)`,
        );
      }
      const order = records.map((_, i) => i);
      if (seed.order === 'shuffle') {
        const random = new Random(`${design.file.seed ?? 0}:seed:${key}`);
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(random.next() * (i + 1));
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
      }
      seeds.set(key, { records, order });
    }
  } finally {
    await store?.close();
  }
  return seeds;
}
