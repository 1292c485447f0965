import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { AgentdError } from '../../core/errors.ts';

/**
 * Where `local/<name>.gguf` looks for a model named without a path: `$AGENTD_HOME/models`,
 * then the folders of `local.model_dirs` in config.yaml.
 */
export function modelFolders(home: string, configured: readonly string[] = []): string[] {
  return [join(home, 'models'), ...configured];
}

/**
 * The file `local/<ref>` names: a path (absolute, or relative to `baseDir`: the agent spec's
 * folder) when the ref has a `/`, else a file of that name in the model folders. Checked to be
 * a GGUF file that fits in this machine's memory; each failure is one line.
 */
export function resolveGgufPath(ref: string, baseDir: string, folders: readonly string[]): string {
  let path: string;
  if (isAbsolute(ref) || ref.includes('/')) {
    path = resolve(baseDir, ref);
  } else {
    const names = ref.endsWith('.gguf') ? [ref] : [ref, `${ref}.gguf`];
    const found = folders.flatMap((dir) => names.map((n) => join(dir, n))).find(isFile);
    if (!found) {
      throw new AgentdError(
        'model_load_failed',
        `local/${ref}: no GGUF file of that name in ${folders.join(', ')} (put it there, or write local/<path to the .gguf>)`,
      );
    }
    path = found;
  }
  checkGguf(path, `local/${ref}`);
  return path;
}

/** Throws a one-line error unless `path` is a GGUF file that fits in memory. */
export function checkGguf(path: string, label = path): void {
  let size: number;
  try {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      throw new AgentdError(
        'model_load_failed',
        `${label}: ${path} is a folder; name the .gguf file`,
      );
    }
    size = stat.size;
  } catch (error) {
    if (error instanceof AgentdError) throw error;
    throw new AgentdError(
      'model_load_failed',
      `${label}: no such file ${path} (give the path of a .gguf file, or put it in ~/.agentd/models)`,
    );
  }
  const magic = readMagic(path);
  if (magic !== 'GGUF') {
    throw new AgentdError(
      'model_load_failed',
      `${label}: ${path} is not a GGUF file (it does not start with "GGUF"); convert the model to GGUF or pick a .gguf file`,
    );
  }
  const memory = totalmem();
  if (size > memory) {
    throw new AgentdError(
      'model_load_failed',
      `${label}: ${path} is too big for this machine's memory (${gib(size)} GiB of weights, ${gib(memory)} GiB of memory); pick a smaller quantization`,
    );
  }
}

/** The GGUF files in `folders` (not recursive), absolute paths, sorted per folder. */
export function listGgufFiles(folders: readonly string[]): string[] {
  const files: string[] = [];
  for (const dir of folders) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const path = join(dir, name);
      if (name.endsWith('.gguf') && isFile(path)) files.push(path);
    }
  }
  return files;
}

function readMagic(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(4);
    const n = readSync(fd, buf, 0, 4, 0);
    return buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(1);
}
