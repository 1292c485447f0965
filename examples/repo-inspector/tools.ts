import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { defineTool, z } from 'agentd';

/** Folders that are never source: dependencies, build output, VCS data. */
const skipped = new Set([
  'node_modules',
  '.git',
  'dist',
  'build',
  'coverage',
  '.next',
  'target',
  '__pycache__',
]);

/** Paths the agent asks for stay inside the directory it was started in. */
function inside(path: string): string {
  const root = process.cwd();
  const full = resolve(root, path);
  if (full !== root && !full.startsWith(root + sep)) {
    throw new Error(`${path} is outside the repository (${root}); give a path inside it`);
  }
  return full;
}

async function* walk(dir: string, signal: AbortSignal): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    signal.throwIfAborted();
    if (entry.name.startsWith('.') && entry.name !== '.github') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!skipped.has(entry.name)) yield* walk(full, signal);
    } else if (entry.isFile()) {
      yield full;
    }
  }
}

async function countLines(file: string): Promise<number> {
  let lines = 0;
  let last = 10;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (const byte of chunk) if (byte === 10) lines++;
    last = chunk.at(-1) ?? last;
  }
  return last === 10 ? lines : lines + 1;
}

const extensionsInput = z
  .array(z.string())
  .optional()
  .describe('only files with these extensions, e.g. [".ts", ".md"]');

function wanted(extensions: string[] | undefined) {
  const set = extensions
    ? new Set(extensions.map((e) => (e.startsWith('.') ? e : `.${e}`)))
    : undefined;
  return (file: string) => !set || set.has(extname(file));
}

export const listFiles = defineTool({
  name: 'list_files',
  description:
    'List the files under a folder of the repository (skips dependencies, build output and dot-folders), with sizes.',
  input: z.object({
    path: z.string().default('.').describe('folder, relative to the repository root'),
    extensions: extensionsInput,
    limit: z.int().min(1).max(1000).default(200).describe('list at most this many files'),
  }),
  idempotent: true,
  async execute({ path, extensions, limit }, { signal }) {
    const root = inside(path);
    const keep = wanted(extensions);
    const shown: string[] = [];
    let total = 0;
    let bytes = 0;
    for await (const file of walk(root, signal)) {
      if (!keep(file)) continue;
      total++;
      const size = (await stat(file)).size;
      bytes += size;
      if (shown.length < limit)
        shown.push(`  ${relative(root, file)} (${size.toLocaleString('en-US')} bytes)`);
    }
    const more = total > shown.length ? `\n  ... and ${total - shown.length} more` : '';
    return `${total} files, ${bytes.toLocaleString('en-US')} bytes under ${path}:\n${shown.join('\n')}${more}`;
  },
});

export const countLinesTool = defineTool({
  name: 'count_lines',
  description: 'Count the lines of the files under a folder of the repository, per file extension.',
  input: z.object({
    path: z.string().default('.').describe('folder, relative to the repository root'),
    extensions: extensionsInput,
  }),
  idempotent: true,
  async execute({ path, extensions }, { signal }) {
    const root = inside(path);
    const keep = wanted(extensions);
    const byExtension = new Map<string, { files: number; lines: number }>();
    let files = 0;
    let lines = 0;
    for await (const file of walk(root, signal)) {
      if (!keep(file)) continue;
      const n = await countLines(file);
      const ext = extname(file) || '(none)';
      const entry = byExtension.get(ext) ?? { files: 0, lines: 0 };
      entry.files++;
      entry.lines += n;
      byExtension.set(ext, entry);
      files++;
      lines += n;
    }
    const rows = [...byExtension]
      .sort((a, b) => b[1].lines - a[1].lines)
      .map(
        ([ext, e]) =>
          `  ${ext.padEnd(10)} ${e.lines.toLocaleString('en-US').padStart(9)} lines in ${e.files} file${e.files === 1 ? '' : 's'}`,
      );
    return `${lines.toLocaleString('en-US')} lines in ${files} files under ${path}:\n${rows.join('\n')}`;
  },
});

export const readFileHead = defineTool({
  name: 'read_file',
  description: 'Read the first lines of a text file in the repository.',
  input: z.object({
    path: z.string().describe('file, relative to the repository root'),
    lines: z.int().min(1).max(500).default(60).describe('how many lines from the top'),
  }),
  idempotent: true,
  async execute({ path, lines }) {
    const file = inside(path);
    const out: string[] = [];
    let rest = '';
    for await (const chunk of createReadStream(file, {
      encoding: 'utf8',
    }) as AsyncIterable<string>) {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      out.push(...parts);
      if (out.length >= lines) break;
    }
    if (out.length < lines && rest) out.push(rest);
    return out.slice(0, lines).join('\n');
  },
});
