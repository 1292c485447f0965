import { createReadStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import { checkTags } from '../../core/run-tags.ts';
import { checkDesignTerms, resolveDesignModels } from '../../data/design/design-models.ts';
import { loadDesign } from '../../data/design/design-spec.ts';
import { compileValidators, type RowContext } from '../../data/design/generate-row.ts';
import { type GenerationProgress, generate, preview } from '../../data/design/generation.ts';
import { loadSeeds } from '../../data/design/seeds.ts';
import { type ExportKind, exportRuns, type RunSelection } from '../../data/export.ts';
import type { ChatFormat } from '../../data/formats.ts';
import { verifyDataset } from '../../data/manifest.ts';
import { environmentSecrets } from '../../data/secret-scan.ts';
import { parseRunFilter } from '../../evals/dataset.ts';
import { relativeToCwd } from '../../evals/suite.ts';
import { openStore, storeExists } from '../../store/open-store.ts';
import { formatCost, paint } from '../format.ts';

export interface DataExportFlags {
  out: string;
  format: ChatFormat;
  filter: string[];
  tag: string[];
  minScore?: number;
  maxScore?: number;
  exclude: string[];
  limit?: number;
  allowTerms: string[];
  allowReason?: string;
  refuseUnknown?: boolean;
  /** Print the rows (JSONL) instead of keeping the folder: checked the same, no manifest kept. */
  stdout?: boolean;
}

/** A folder that is about to become a dataset holds none yet (nothing is overwritten). */
function freshFolder(dir: string): void {
  if (existsSync(dir) && readdirSync(dir).some((f) => !f.startsWith('.'))) {
    throw new AgentdError(
      'usage',
      `${relativeToCwd(dir)}: the folder is not empty; give -o a new folder (a dataset is never written over another)`,
    );
  }
}

/** `agentd data export <kind>`: stored runs as a dataset folder with lineage and a manifest. */
export async function dataExportCommand(
  kind: ExportKind,
  flags: DataExportFlags,
  version: string,
): Promise<number> {
  const config = loadConfig();
  const filter = parseRunFilter(flags.filter, Number.MAX_SAFE_INTEGER);
  for (const model of flags.allowTerms) {
    if (!/^[a-z-]+\/.+$/.test(model)) {
      throw new AgentdError(
        'usage',
        `--allow-terms "${model}": write provider/model-id, as agentd models lists it`,
      );
    }
  }
  const selection: RunSelection = { statuses: filter.statuses };
  if (filter.agent) selection.agent = filter.agent;
  if (filter.since) selection.since = filter.since;
  if (filter.until) selection.until = filter.until;
  if (filter.task) selection.query = filter.task;
  if (filter.ids) selection.runs = filter.ids;
  const tags = [...(filter.tags ?? []), ...checkTags(flags.tag, '--tag')];
  if (tags.length) selection.tags = [...new Set(tags)];
  if (flags.exclude.length) selection.exclude = flags.exclude;
  if (flags.minScore !== undefined) selection.minScore = flags.minScore;
  if (flags.maxScore !== undefined) selection.maxScore = flags.maxScore;
  if (flags.limit !== undefined) selection.limit = flags.limit;
  if (!flags.stdout) freshFolder(resolve(flags.out));
  if (!storeExists(config)) {
    throw new AgentdError(
      'dataset_empty',
      `nothing to export: no runs are stored in ${config.dbPath} yet (agentd run records them)`,
    );
  }
  const store = openStore(config);
  const outDir = flags.stdout ? mkdtempSync(join(tmpdir(), 'agentd-export-')) : resolve(flags.out);
  try {
    const { manifest, refused } = await exportRuns({
      store,
      config,
      kind,
      format: flags.format,
      selection,
      allowTerms: flags.allowTerms,
      ...(flags.allowReason ? { allowReason: flags.allowReason } : {}),
      ...(flags.refuseUnknown ? { refuseUnknown: true } : {}),
      outDir,
      ...(flags.stdout ? { copyFrames: false } : {}),
      agentdVersion: version,
      secrets: environmentSecrets(config.env),
      onRefused: (runId, models) =>
        process.stderr.write(
          `${paint('yellow', 'refused')} run ${runId}: ${models.map((m) => `${m.model} (${m.note})`).join('; ')}\n`,
        ),
    });
    const where = relativeToCwd(outDir);
    const rows = manifest.counts.rows ?? 0;
    if (flags.stdout) {
      await pipeline(createReadStream(join(outDir, manifest.files.data.path)), process.stdout, {
        end: false,
      });
      process.stderr.write(
        `${rows} row${rows === 1 ? '' : 's'}, checked for terms and secrets, each with its lineage; no manifest is kept (-o <dir> writes the dataset folder for agentd data verify)\n`,
      );
    } else
      process.stderr.write(
        `wrote ${manifest.counts.rows} row${manifest.counts.rows === 1 ? '' : 's'} to ${where}/${manifest.files.data.path} with lineage.jsonl, manifest.json and DATASET.md${manifest.attachments?.length ? ` and ${manifest.attachments.length} frame${manifest.attachments.length === 1 ? '' : 's'} in frames/` : ''} (agentd data verify ${where})\n`,
      );
    if (refused.length) {
      process.stderr.write(
        `${refused.length} run${refused.length === 1 ? ' was' : 's were'} refused for models whose terms forbid training on their outputs (--allow-terms <model> if your contract allows it)\n`,
      );
    }
    if (manifest.flagged.unknownTermsRows) {
      process.stderr.write(
        `${paint('yellow', 'flagged')} ${manifest.flagged.unknownTermsRows} row(s) from models whose terms are unknown: ${manifest.flagged.models.join(', ')} (record their terms under model_terms in ${config.configPath}, or --refuse-unknown)\n`,
      );
    }
    return 0;
  } finally {
    await store.close();
    if (flags.stdout) rmSync(outDir, { recursive: true, force: true });
  }
}

/** `agentd data verify <dir>`: the folder against its manifest. */
export async function dataVerifyCommand(dir: string): Promise<number> {
  const { manifest, problems } = await verifyDataset(resolve(dir));
  if (problems.length) {
    for (const p of problems.slice(0, 50)) process.stderr.write(`${paint('red', '✗')} ${p}\n`);
    if (problems.length > 50) process.stderr.write(`… and ${problems.length - 50} more\n`);
    return 1;
  }
  const unknown = manifest.flagged.unknownTermsRows;
  process.stdout.write(
    `${paint('green', '✓')} ${manifest.files.data.rows} rows match their hashes and the manifest (${manifest.kind}, ${manifest.intendedUse}; ${manifest.models.map((m) => `${m.model}: ${m.distillable}`).join(', ')}${manifest.overrides.length ? `; overrides: ${manifest.overrides.map((o) => o.model).join(', ')}` : ''}${unknown ? `; ${unknown} row(s) flagged for unknown terms` : ''})\n`,
  );
  return 0;
}

export interface DataDesignFlags {
  out?: string;
  preview?: number;
  rows?: number;
  concurrency?: number;
  restart?: boolean;
}

function progressLine(p: GenerationProgress): string {
  const width = 24;
  const filled = Math.round((p.done / p.total) * width);
  const eta =
    p.etaSeconds === undefined
      ? '-'
      : p.etaSeconds < 90
        ? `${Math.ceil(p.etaSeconds)}s`
        : `${Math.ceil(p.etaSeconds / 60)}m`;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} rows (${p.kept} kept, ${p.dropped} dropped) · ${p.rowsPerSecond.toFixed(1)} rows/s · ${formatCost(p.costUsd)} · ${p.tokens} tokens · ETA ${eta}`;
}

/** `agentd data design <design.yaml>`: a synthetic dataset, durable and resumable. */
export async function dataDesignCommand(
  file: string,
  flags: DataDesignFlags,
  version: string,
): Promise<number> {
  const config = loadConfig();
  const design = loadDesign(file);
  // Terms before anything is called or read: refused up front, not after spending money.
  const terms = checkDesignTerms(design, config);
  const validators = await compileValidators(design);
  const seeds = await loadSeeds(design, () => openStore(config));
  const { models, secrets } = await resolveDesignModels(design, config, terms);
  // Ctrl-C stops new rows; the rows in flight finish and are kept (so no signal reaches them).
  const controller = new AbortController();
  const ctx: RowContext = { design, models, seeds, validators };
  const concurrency = flags.concurrency ?? design.file.concurrency ?? 8;
  const allSecrets = [...secrets, ...environmentSecrets(config.env)];
  if (flags.preview !== undefined) {
    const rows = await preview(ctx, flags.preview, concurrency);
    for (const r of rows) {
      process.stdout.write(`${JSON.stringify(r.row ?? { _dropped: r.dropped, _row: r.index })}\n`);
    }
    const dropped = rows.filter((r) => !r.row).length;
    process.stderr.write(
      `preview: ${rows.length - dropped} kept, ${dropped} dropped; nothing was written\n`,
    );
    return 0;
  }
  const outDir = resolve(flags.out ?? design.file.name);
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  let lastDraw = 0;
  const onSignal = () => {
    process.stderr.write(
      '\nstopping: the rows in flight finish and are kept (run the same command to continue)\n',
    );
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const budget = design.file.budget;
    const result = await generate({
      ctx,
      outDir,
      rows: flags.rows ?? design.file.rows,
      concurrency,
      ...(budget
        ? {
            budget: {
              ...(budget.max_tokens ? { maxTokens: budget.max_tokens } : {}),
              ...(budget.max_cost_usd ? { maxCostUsd: budget.max_cost_usd } : {}),
            },
          }
        : {}),
      agentdVersion: version,
      secrets: allSecrets,
      ...(flags.restart ? { restart: true } : {}),
      signal: controller.signal,
      onProgress: (p) => {
        if (tty) {
          const at = Date.now();
          if (at - lastDraw < 100 && p.done < p.total) return;
          lastDraw = at;
          process.stderr.write(`\r${progressLine(p)}\x1b[K`);
          return;
        }
        const tenth = Math.floor((p.done / p.total) * 10);
        if (tenth !== lastTenth) {
          lastTenth = tenth;
          process.stderr.write(`${progressLine(p)}\n`);
        }
      },
    });
    if (tty) process.stderr.write('\n');
    const where = relativeToCwd(outDir);
    if (result.status === 'stopped') {
      process.stderr.write(
        result.why === 'budget'
          ? `stopped at the budget: ${result.progress.done} of ${result.progress.total} rows, ${result.progress.tokens} tokens, ${formatCost(result.progress.costUsd)}; raise budget in ${file} and run again to continue\n`
          : `stopped: ${result.progress.done} of ${result.progress.total} rows are kept in ${where}; run the same command to continue\n`,
      );
      return result.why === 'budget' ? 1 : 130;
    }
    const m = result.manifest;
    process.stderr.write(
      `wrote ${m.counts.kept} rows (${m.counts.dropped} dropped${m.counts.repairs ? `, ${m.counts.repairs} repairs` : ''}) to ${where}/data.jsonl and data.parquet with lineage.jsonl, manifest.json and DATASET.md${result.progress.resumedFrom ? ` (resumed after ${result.progress.resumedFrom} rows)` : ''}\n`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
