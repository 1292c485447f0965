import {
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sha256 } from '../../core/canonical-json.ts';
import { AgentdError, errorMessage } from '../../core/errors.ts';
import { DatasetWriter } from '../dataset-writer.ts';
import { type DatasetManifest, MANIFEST_FILE } from '../manifest.ts';
import type { DesignModelHandle } from './design-models.ts';
import { generateRow, type RowContext, type RowOutcome } from './generate-row.ts';
import { ParquetOutput } from './parquet-output.ts';

export interface GenerationProgress {
  total: number;
  /** Rows decided (kept or dropped), this session and before. */
  done: number;
  kept: number;
  dropped: number;
  tokens: number;
  costUsd: number;
  /** Rows decided per second in this session. */
  rowsPerSecond: number;
  /** Seconds left at this session's rate; undefined before the first row. */
  etaSeconds?: number;
  /** Rows found decided when the generation started (a resume). */
  resumedFrom: number;
}

export interface GenerationOptions {
  ctx: RowContext;
  outDir: string;
  rows: number;
  concurrency: number;
  budget?: { maxTokens?: number; maxCostUsd?: number };
  agentdVersion: string;
  secrets: readonly string[];
  restart?: boolean;
  onProgress?: (p: GenerationProgress) => void;
  /** Stops taking new rows; those in flight finish and are kept. */
  signal?: AbortSignal;
  now?: () => number;
}

export type GenerationResult =
  | { status: 'complete'; manifest: DatasetManifest; progress: GenerationProgress }
  | { status: 'stopped'; why: 'budget' | 'interrupted'; progress: GenerationProgress };

const STATE = '.generation';

/** What the progress log says was decided, without holding the rows. */
interface Decided {
  /** 1 at each row index already decided. */
  rows: Uint8Array;
  count: number;
  kept: number;
  dropped: number;
  tokens: number;
  costUsd: number;
}

/**
 * Reads the progress log a chunk at a time (memory stays flat however long it is). A last line
 * without its newline, or one that is not JSON, was torn by a kill: it and anything after it are
 * cut off, and those rows count as not decided.
 */
function readProgress(path: string, total: number): Decided {
  const decided: Decided = {
    rows: new Uint8Array(total),
    count: 0,
    kept: 0,
    dropped: 0,
    tokens: 0,
    costUsd: 0,
  };
  if (!existsSync(path)) return decided;
  const fd = openSync(path, 'r');
  const chunk = Buffer.alloc(1 << 20);
  let carry = Buffer.alloc(0);
  let good = 0;
  let position = 0;
  let torn = false;
  try {
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, position);
      if (n === 0) break;
      position += n;
      let data = Buffer.concat([carry, chunk.subarray(0, n)]);
      let start = 0;
      for (let nl = data.indexOf(10, start); nl !== -1; nl = data.indexOf(10, start)) {
        const line = data.toString('utf8', start, nl);
        start = nl + 1;
        if (!line) {
          good += 1;
          continue;
        }
        let o: RowOutcome;
        try {
          o = JSON.parse(line) as RowOutcome;
        } catch {
          torn = true;
          break;
        }
        good += Buffer.byteLength(line) + 1;
        if (o.index < 0 || o.index >= total || decided.rows[o.index]) continue;
        decided.rows[o.index] = 1;
        decided.count++;
        if (o.row) decided.kept++;
        else decided.dropped++;
        decided.tokens += o.tokens;
        decided.costUsd += o.costUsd;
      }
      if (torn) break;
      data = data.subarray(start);
      carry = Buffer.from(data);
    }
  } finally {
    closeSync(fd);
  }
  if (good < position || torn || carry.length) truncateSync(path, good);
  return decided;
}

/**
 * Generates a design's rows durably: each decided row (kept or dropped) is appended to the
 * progress log before it counts, so a generation killed at any point resumes where it stopped,
 * and a row already decided is never generated again. Rows run `concurrency` at a time; the
 * budget stops new rows once reached. When every row is decided the dataset folder is written:
 * data.jsonl, data.parquet, lineage, manifest and card.
 */
export async function generate(options: GenerationOptions): Promise<GenerationResult> {
  const { ctx, outDir, rows } = options;
  const design = ctx.design;
  const now = options.now ?? Date.now;
  const stateDir = join(outDir, STATE);
  const statePath = join(stateDir, 'design.json');
  const logPath = join(stateDir, 'progress.jsonl');
  const designHash = sha256(design.text);
  if (options.restart) {
    rmSync(stateDir, { recursive: true, force: true });
    for (const f of ['data.jsonl', 'data.parquet', 'lineage.jsonl', MANIFEST_FILE, 'DATASET.md'])
      rmSync(join(outDir, f), { force: true });
  }
  mkdirSync(stateDir, { recursive: true });
  if (existsSync(statePath)) {
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as {
      designSha256: string;
      rows: number;
    };
    if (state.designSha256 !== designHash || state.rows !== rows) {
      throw new AgentdError(
        'design_invalid',
        `${outDir}: holds a generation of another version of this design (or another row count); --restart discards it and starts again, or -o another folder`,
      );
    }
  } else {
    writeFileSync(
      statePath,
      JSON.stringify({
        designSha256: designHash,
        rows,
        seed: design.file.seed ?? 0,
        design: design.path,
      }),
    );
  }
  const decided = readProgress(logPath, rows);
  const done = decided.rows;
  const resumedFrom = decided.count;
  const progress: GenerationProgress = {
    total: rows,
    done: decided.count,
    kept: decided.kept,
    dropped: decided.dropped,
    tokens: decided.tokens,
    costUsd: decided.costUsd,
    rowsPerSecond: 0,
    resumedFrom,
  };
  const overBudget = () =>
    (options.budget?.maxTokens !== undefined && progress.tokens >= options.budget.maxTokens) ||
    (options.budget?.maxCostUsd !== undefined && progress.costUsd >= options.budget.maxCostUsd);

  const log = openSync(logPath, 'a');
  const started = now();
  let sessionDone = 0;
  let next = 0;
  let failure: unknown;
  let stoppedFor: 'budget' | 'interrupted' | undefined;
  const take = (): number | undefined => {
    if (failure !== undefined) return undefined;
    if (options.signal?.aborted) {
      stoppedFor = 'interrupted';
      return undefined;
    }
    if (overBudget()) {
      stoppedFor = 'budget';
      return undefined;
    }
    while (next < rows && done[next]) next++;
    return next < rows ? next++ : undefined;
  };
  const worker = async () => {
    for (let index = take(); index !== undefined; index = take()) {
      let outcome: RowOutcome;
      try {
        outcome = await generateRow(index, ctx);
      } catch (error) {
        failure ??= new AgentdError(
          'model_request_failed',
          `row ${index}: ${errorMessage(error)} (the rows before it are kept: run the same command again to continue)`,
        );
        return;
      }
      writeSync(log, `${JSON.stringify(outcome)}\n`);
      done[index] = 1;
      sessionDone++;
      progress.done++;
      if (outcome.row) progress.kept++;
      else progress.dropped++;
      progress.tokens += outcome.tokens;
      progress.costUsd += outcome.costUsd;
      const elapsed = (now() - started) / 1000;
      progress.rowsPerSecond = elapsed > 0 ? sessionDone / elapsed : 0;
      if (progress.rowsPerSecond > 0)
        progress.etaSeconds = (rows - progress.done) / progress.rowsPerSecond;
      options.onProgress?.({ ...progress });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  } finally {
    closeSync(log);
  }
  if (failure !== undefined) throw failure;
  if (progress.done < rows)
    return { status: 'stopped', why: stoppedFor ?? 'interrupted', progress };
  const manifest = await assemble(options, logPath, designHash, progress);
  return { status: 'complete', manifest, progress };
}

/** Writes the dataset folder from the progress log, rows in index order, streaming. */
async function assemble(
  options: GenerationOptions,
  logPath: string,
  designHash: string,
  progress: GenerationProgress,
): Promise<DatasetManifest> {
  const { ctx, outDir } = options;
  const design = ctx.design;
  const writer = new DatasetWriter(outDir, 'data.jsonl', { secrets: options.secrets });
  const parquet = new ParquetOutput(join(outDir, 'data.parquet.partial'), design.file.columns);
  const counts: Record<string, number> = {
    requested: options.rows,
    kept: 0,
    dropped: 0,
    repairs: 0,
    tokens: 0,
  };
  let costUsd = 0;
  try {
    await parquet.open();
    // Rows are logged nearly in order (at most the rows in flight apart): a small buffer sorts them.
    const waiting = new Map<number, RowOutcome>();
    let expected = 0;
    const emit = (o: RowOutcome) => {
      counts.repairs! += o.repairs;
      counts.tokens! += o.tokens;
      costUsd += o.costUsd;
      if (!o.row) {
        counts.dropped!++;
        const reason = `dropped_${o.dropped?.split(':')[0] ?? 'unknown'}`;
        counts[reason] = (counts[reason] ?? 0) + 1;
        return;
      }
      counts.kept!++;
      const models = Object.entries(o.calls).map(([key, turns]) => {
        const handle = ctx.models.get(key) as DesignModelHandle;
        return {
          model: handle.ref,
          provider: handle.ref.slice(0, handle.ref.indexOf('/')),
          distillable: handle.terms.distillable,
          terms: handle.terms,
          turns,
        };
      });
      writer.add(
        o.row,
        { index: o.index, repairs: o.repairs, calls: o.calls },
        models,
        `row ${o.index}`,
      );
      parquet.add(o.row);
    };
    const reader = createInterface({
      input: createReadStream(logPath, 'utf8'),
      crlfDelay: Infinity,
    });
    const seen = new Set<number>();
    for await (const line of reader) {
      if (!line) continue;
      const o = JSON.parse(line) as RowOutcome;
      if (o.index >= options.rows || o.index < expected || seen.has(o.index)) continue;
      seen.add(o.index);
      waiting.set(o.index, o);
      while (waiting.has(expected)) {
        emit(waiting.get(expected)!);
        waiting.delete(expected);
        seen.delete(expected);
        expected++;
      }
    }
    parquet.finish();
  } catch (error) {
    writer.abort();
    rmSync(join(outDir, 'data.parquet.partial'), { force: true });
    throw error;
  }
  renameSync(join(outDir, 'data.parquet.partial'), join(outDir, 'data.parquet'));
  return writer.finish(
    {
      origin: 'design',
      kind: 'synthetic',
      format: 'jsonl+parquet',
      intendedUse: (design.file.use ?? 'training') === 'training' ? 'training' : 'evaluation',
      createdAt: new Date().toISOString(),
      agentdVersion: options.agentdVersion,
      selection: {
        design: design.path,
        designSha256: designHash,
        name: design.file.name,
        rows: options.rows,
        seed: design.file.seed ?? 0,
      },
      counts: {
        ...counts,
        costMicroUsd: Math.round(costUsd * 1e6),
        resumedFrom: progress.resumedFrom,
      },
      overrides: [],
      redaction: {
        export:
          'every row and lineage line was scanned for credential-shaped text and environment credentials before it was written; none was found',
      },
    },
    { parquet: 'data.parquet' },
  );
}

/** `--preview`: the first `n` rows, generated in memory and not kept. */
export async function preview(
  ctx: RowContext,
  n: number,
  concurrency: number,
): Promise<RowOutcome[]> {
  const out: RowOutcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const index = next++;
      out.push(await generateRow(index, ctx));
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, Math.max(1, concurrency)) }, worker));
  return out.sort((a, b) => a.index - b.index);
}
