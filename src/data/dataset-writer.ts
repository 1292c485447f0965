import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../core/canonical-json.ts';
import { AgentdError } from '../core/errors.ts';
import {
  type DatasetManifest,
  datasetCard,
  type LineageHead,
  MANIFEST_FILE,
  type ManifestAttachment,
  type ManifestFile,
  type ManifestModel,
  type RowModel,
} from './manifest.ts';
import { findSecret } from './secret-scan.ts';

/** Where a row came from, for the error that names it when it would leak a secret. */
export type RowOrigin = string;

/** Buffered appends to a file opened once; `flush` writes what is buffered. */
class LineFile {
  readonly #fd: number;
  readonly #hash = createHash('sha256');
  #buffer: string[] = [];
  #size = 0;
  bytes = 0;
  rows = 0;

  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'w');
  }

  add(line: string): void {
    const text = `${line}\n`;
    this.#buffer.push(text);
    this.#size += text.length;
    this.rows++;
    if (this.#size > 1 << 20) this.flush();
  }

  flush(): void {
    if (!this.#buffer.length) return;
    const chunk = Buffer.from(this.#buffer.join(''), 'utf8');
    this.#buffer = [];
    this.#size = 0;
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    writeSync(this.#fd, chunk);
  }

  close(): string {
    this.flush();
    closeSync(this.#fd);
    return this.#hash.digest('hex');
  }
}

/**
 * Writes a dataset folder: the rows (JSONL), their lineage (one line per row, with the row's
 * hash), the manifest and the dataset card. Every row and lineage line is scanned for
 * credential-shaped text first; one found stops the dataset and nothing is left behind.
 * Files are written under `.partial` names and renamed only when the dataset is complete.
 */
export class DatasetWriter {
  readonly #dir: string;
  readonly #data: LineFile;
  readonly #lineage: LineFile;
  readonly #secrets: readonly string[];
  readonly #hashes = createHash('sha256');
  readonly #models = new Map<string, ManifestModel>();
  #unknownRows = 0;
  readonly #unknownModels = new Set<string>();
  #first = true;
  #closed = false;
  /** Files beside the rows (a trajectory's frames), by their path in the folder. */
  readonly #attachments = new Map<string, ManifestAttachment>();
  readonly #folders = new Set<string>();

  readonly dataName: string;

  constructor(dir: string, dataName: string, options: { secrets?: readonly string[] } = {}) {
    this.#dir = dir;
    this.dataName = dataName;
    mkdirSync(dir, { recursive: true });
    this.#data = new LineFile(join(dir, `${dataName}.partial`));
    this.#lineage = new LineFile(join(dir, 'lineage.jsonl.partial'));
    this.#secrets = options.secrets ?? [];
  }

  get rows(): number {
    return this.#data.rows;
  }

  /** Adds a row; `terms` gives each writing model's terms, `turns` how many texts each wrote. */
  add(
    row: unknown,
    lineage: Record<string, unknown>,
    models: readonly (RowModel & {
      terms: Omit<ManifestModel, 'rows' | 'turns' | 'provider'>;
      turns: number;
    })[],
    origin: RowOrigin,
  ): void {
    const line = JSON.stringify(row);
    const leak = findSecret(line, this.#secrets);
    if (leak) {
      this.abort();
      throw new AgentdError(
        'secret_in_dataset',
        `${origin}: the row would contain ${leak.kind} (${leak.masked}); nothing was written. Remove the text from its source (or leave the run out) and export again`,
      );
    }
    const hash = sha256(line);
    const head: LineageHead = {
      row: this.#data.rows + 1,
      sha256: hash,
      models: models.map(({ terms: _terms, turns: _turns, ...m }) => m),
    };
    const lineageLine = JSON.stringify({ ...head, ...lineage });
    const lineageLeak = findSecret(lineageLine, this.#secrets);
    if (lineageLeak) {
      this.abort();
      throw new AgentdError(
        'secret_in_dataset',
        `${origin}: the row's lineage would contain ${lineageLeak.kind} (${lineageLeak.masked}); nothing was written`,
      );
    }
    this.#data.add(line);
    this.#lineage.add(lineageLine);
    this.#hashes.update(this.#first ? hash : `\n${hash}`);
    this.#first = false;
    let unknown = false;
    for (const m of models) {
      const known = this.#models.get(m.model);
      if (known) {
        known.rows++;
        known.turns += m.turns;
      } else {
        this.#models.set(m.model, { ...m.terms, provider: m.provider, rows: 1, turns: m.turns });
      }
      if (m.distillable === 'unknown') {
        unknown = true;
        this.#unknownModels.add(m.model);
      }
    }
    if (unknown) this.#unknownRows++;
  }

  /**
   * Puts a file beside the rows (`folder/name`, e.g. `frames/<sha-256>.png`), written under
   * `<folder>.partial/` until the dataset is complete; listed in the manifest with its digest.
   * A file already attached is kept once.
   */
  attach(folder: string, name: string, bytes: Uint8Array): void {
    const path = `${folder}/${name}`;
    if (this.#attachments.has(path)) return;
    const partial = join(this.#dir, `${folder}.partial`);
    if (!this.#folders.has(folder)) {
      mkdirSync(partial, { recursive: true });
      this.#folders.add(folder);
    }
    writeFileSync(join(partial, name), bytes);
    this.#attachments.set(path, {
      path,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
    });
  }

  /** Renames the files into place and writes the manifest and the card. */
  finish(
    fields: Omit<
      DatasetManifest,
      'manifestVersion' | 'files' | 'rowHashesSha256' | 'models' | 'flagged'
    >,
    extraFiles: Record<string, string> = {},
  ): DatasetManifest {
    const dataSha = this.#data.close();
    const lineageSha = this.#lineage.close();
    this.#closed = true;
    renameSync(this.#data.path, join(this.#dir, this.dataName));
    renameSync(this.#lineage.path, join(this.#dir, 'lineage.jsonl'));
    const files: DatasetManifest['files'] = {
      data: {
        path: this.dataName,
        sha256: dataSha,
        bytes: this.#data.bytes,
        rows: this.#data.rows,
      },
      lineage: {
        path: 'lineage.jsonl',
        sha256: lineageSha,
        bytes: this.#lineage.bytes,
        rows: this.#lineage.rows,
      },
    };
    for (const [name, path] of Object.entries(extraFiles))
      files[name] = fileEntry(this.#dir, path, this.#data.rows);
    for (const folder of this.#folders) {
      rmSync(join(this.#dir, folder), { recursive: true, force: true });
      renameSync(join(this.#dir, `${folder}.partial`), join(this.#dir, folder));
    }
    const manifest: DatasetManifest = {
      manifestVersion: 1,
      ...fields,
      models: [...this.#models.values()].sort(
        (a, b) => b.rows - a.rows || a.model.localeCompare(b.model),
      ),
      flagged: { unknownTermsRows: this.#unknownRows, models: [...this.#unknownModels].sort() },
      files,
      ...(this.#attachments.size
        ? {
            attachments: [...this.#attachments.values()].sort((a, b) =>
              a.path.localeCompare(b.path),
            ),
          }
        : {}),
      rowHashesSha256: this.#hashes.digest('hex'),
    };
    writeFileSync(join(this.#dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(this.#dir, 'DATASET.md'), datasetCard(manifest));
    return manifest;
  }

  /** Removes what was written. */
  abort(): void {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#data.close();
        this.#lineage.close();
      } catch {
        // already closed
      }
    }
    rmSync(this.#data.path, { force: true });
    rmSync(this.#lineage.path, { force: true });
    for (const folder of this.#folders)
      rmSync(join(this.#dir, `${folder}.partial`), { recursive: true, force: true });
  }
}

function fileEntry(dir: string, path: string, rows: number): ManifestFile {
  const data = readFileSync(join(dir, path));
  return {
    path,
    sha256: createHash('sha256').update(data).digest('hex'),
    bytes: data.length,
    rows,
  };
}
