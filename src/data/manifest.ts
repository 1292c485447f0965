import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sha256 } from '../core/canonical-json.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type { Distillable, ModelTerms } from '../models/terms.ts';

export const MANIFEST_FILE = 'manifest.json';

/** What a row's lineage says of one model that wrote into it. */
export interface RowModel {
  model: string;
  provider: string;
  distillable: Distillable;
  /** Set when the row was kept only because `--allow-terms` named this model. */
  overridden?: true;
}

/** A model's part in a dataset, with its terms. */
export interface ManifestModel extends ModelTerms {
  provider: string;
  /** Rows with at least one text of this model. */
  rows: number;
  /** Assistant turns (or generated values) of this model. */
  turns: number;
}

export interface ManifestFile {
  path: string;
  sha256: string;
  bytes: number;
  rows: number;
}

/** A file beside the rows that they refer to (a trajectory's frame, `frames/<sha-256>.png`). */
export interface ManifestAttachment {
  path: string;
  sha256: string;
  bytes: number;
}

/** A dataset card: what is in the data, where it came from, and whether it may be trained on. */
export interface DatasetManifest {
  manifestVersion: 1;
  /** `runs`: exported from stored runs; `design`: generated from a design file. */
  origin: 'runs' | 'design';
  kind: string;
  format: string;
  /** What the rows are for: `training` rows had every writing model's terms checked. */
  intendedUse: 'training' | 'evaluation';
  createdAt: string;
  agentdVersion: string;
  /** How rows were chosen (the export's filters, or the design file and its seed). */
  selection: Record<string, unknown>;
  counts: Record<string, number>;
  models: ManifestModel[];
  /** Models whose terms forbid training, kept because the person exporting said so. */
  overrides: { model: string; distillable: Distillable; by: string; at: string; reason: string }[];
  /** Rows with a model whose terms nobody has stated (`unknown`). */
  flagged: { unknownTermsRows: number; models: string[] };
  redaction: Record<string, unknown>;
  files: { data: ManifestFile; lineage: ManifestFile; [name: string]: ManifestFile };
  /** Files the rows refer to, copied into the folder (trajectories: their frames). */
  attachments?: ManifestAttachment[];
  /** SHA-256 of every row's hash (in lineage order) joined by newlines. */
  rowHashesSha256: string;
}

/** A row's place and hash, the first fields of every lineage line. */
export interface LineageHead {
  row: number;
  sha256: string;
  models: RowModel[];
}

async function* lines(path: string): AsyncIterable<string> {
  const reader = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of reader) if (line !== '') yield line;
}

/**
 * Checks a dataset folder against its manifest: the files' digests and sizes, every row against
 * its hash in the lineage (naming the first row that differs), and that no row has a model whose
 * terms forbid training unless the manifest records the override. Returns the problems found.
 */
export async function verifyDataset(dir: string): Promise<{
  manifest: DatasetManifest;
  problems: string[];
}> {
  const manifestPath = join(dir, MANIFEST_FILE);
  let manifest: DatasetManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as DatasetManifest;
  } catch (error) {
    throw new AgentdError(
      'dataset_invalid',
      `${manifestPath}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no manifest (agentd data export and agentd data design write one beside the data)' : `not a dataset manifest: ${errorMessage(error)}`}`,
    );
  }
  if (manifest.manifestVersion !== 1 || !manifest.files?.data || !manifest.files?.lineage) {
    throw new AgentdError(
      'dataset_invalid',
      `${manifestPath}: not a dataset manifest of this agentd (manifestVersion 1 with files.data and files.lineage)`,
    );
  }
  const problems: string[] = [];
  for (const file of Object.values(manifest.files)) {
    let text: Buffer;
    try {
      text = readFileSync(join(dir, file.path));
    } catch {
      problems.push(`${file.path}: missing`);
      continue;
    }
    if (text.length !== file.bytes || sha256OfBuffer(text) !== file.sha256) {
      problems.push(
        `${file.path}: changed since the export (sha256 ${sha256OfBuffer(text).slice(0, 12)}…, the manifest has ${file.sha256.slice(0, 12)}…)`,
      );
    }
  }
  const attached = new Set<string>();
  for (const file of manifest.attachments ?? []) {
    attached.add(file.path);
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dir, file.path));
    } catch {
      problems.push(`${file.path}: missing (the rows refer to it)`);
      continue;
    }
    if (bytes.length !== file.bytes || sha256OfBuffer(bytes) !== file.sha256) {
      problems.push(
        `${file.path}: changed since the export (sha256 ${sha256OfBuffer(bytes).slice(0, 12)}…, the manifest has ${file.sha256.slice(0, 12)}…)`,
      );
    }
  }
  // A trajectory dataset with its frames copied: every frame a row names must be in the folder.
  const framesCopied = manifest.format === 'agentd-trajectories' && manifest.attachments;
  const overridden = new Set(manifest.overrides.map((o) => o.model));
  const heads: LineageHead[] = [];
  try {
    for await (const line of lines(join(dir, manifest.files.lineage.path))) {
      heads.push(JSON.parse(line) as LineageHead);
    }
  } catch (error) {
    problems.push(`${manifest.files.lineage.path}: unreadable (${errorMessage(error)})`);
    return { manifest, problems };
  }
  const hashes = heads.map((h) => h.sha256);
  if (sha256(hashes.join('\n')) !== manifest.rowHashesSha256) {
    problems.push(
      `${manifest.files.lineage.path}: its row hashes are not the ones the manifest sealed`,
    );
  }
  for (const head of heads) {
    for (const m of head.models) {
      if (
        m.distillable === 'no' &&
        manifest.intendedUse === 'training' &&
        !overridden.has(m.model)
      ) {
        problems.push(
          `${manifest.files.lineage.path}: row ${head.row} has text from ${m.model}, whose terms forbid training, and the manifest records no override`,
        );
      }
    }
  }
  let row = 0;
  const dataPath = manifest.files.data.path;
  if (!dataPath.endsWith('.jsonl')) return { manifest, problems };
  try {
    for await (const line of lines(join(dir, dataPath))) {
      row++;
      const expected = heads[row - 1];
      if (!expected) {
        problems.push(
          `${dataPath}:${row}: a row the lineage does not have (added after the export)`,
        );
        continue;
      }
      if (framesCopied) {
        const frames = (parseRow(line) as { frames?: unknown } | undefined)?.frames;
        for (const digest of Array.isArray(frames) ? frames : []) {
          if (!attached.has(`frames/${digest}.png`)) {
            problems.push(
              `${dataPath}:${row}: frame ${String(digest).slice(0, 12)}… is not in the folder (frames/ and the manifest's attachments)`,
            );
          }
        }
      }
      const actual = sha256(line);
      if (actual !== expected.sha256) {
        problems.push(
          `${dataPath}:${row}: row edited (sha256 ${actual.slice(0, 12)}…, the lineage has ${expected.sha256.slice(0, 12)}…)`,
        );
      }
    }
  } catch (error) {
    problems.push(`${dataPath}: unreadable (${errorMessage(error)})`);
  }
  if (row < heads.length) {
    problems.push(
      `${dataPath}: ${heads.length - row} row(s) missing (the lineage has ${heads.length})`,
    );
  }
  if (row !== manifest.files.data.rows) {
    problems.push(`${dataPath}: ${row} rows, the manifest says ${manifest.files.data.rows}`);
  }
  return { manifest, problems };
}

function parseRow(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

export function sha256OfBuffer(data: Buffer | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The dataset card beside the data, for people: the manifest's facts in Markdown. */
export function datasetCard(m: DatasetManifest): string {
  const lines = [
    `# Dataset: ${m.kind} (${m.format})`,
    '',
    `Made by agentd ${m.agentdVersion} on ${m.createdAt} from ${m.origin === 'runs' ? 'stored runs' : 'a design file'}, for ${m.intendedUse}.`,
    '',
    '## Counts',
    '',
    ...Object.entries(m.counts).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Models and their terms for training on outputs',
    '',
    '| model | rows | distillable | terms | source | as of | from |',
    '| --- | ---: | --- | --- | --- | --- | --- |',
    ...m.models.map(
      (x) =>
        `| ${x.model} | ${x.rows} | ${x.distillable} | ${x.note.replaceAll('|', '\\|')} | ${x.source || '-'} | ${x.asOf || '-'} | ${x.origin} |`,
    ),
    '',
  ];
  if (m.overrides.length) {
    lines.push('## Overrides', '');
    for (const o of m.overrides) {
      lines.push(`- ${o.model} (${o.distillable}) kept by ${o.by} at ${o.at}: ${o.reason}`);
    }
    lines.push('');
  }
  if (m.flagged.unknownTermsRows) {
    lines.push(
      '## Flagged',
      '',
      `${m.flagged.unknownTermsRows} row(s) have text from models whose terms are unknown: ${m.flagged.models.join(', ')}. Check them before training (config.yaml model_terms records what you find).`,
      '',
    );
  }
  lines.push(
    '## Selection',
    '',
    '```json',
    JSON.stringify(m.selection, null, 2),
    '```',
    '',
    `Verify with \`agentd data verify <this folder>\`: every row is checked against its hash in ${m.files.lineage.path}.`,
    '',
  );
  return lines.join('\n');
}
