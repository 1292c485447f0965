// The longest functions and files of the product, as a table. It reports, it never fails on
// what it finds: `.ci/run` prints it so that a reviewer sees a function or a file growing.
//
//   node scripts/code-size.ts [--top N] [--over LINES] [folder...]   (default: src)
//
// A function's length is the number of lines from its first to its last (nested functions
// included); a file's is its number of lines. Parsed with oxc (rolldown's parser), so strings,
// templates and comments never count as code.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAst } from 'rolldown/parseAst';

export interface FunctionSize {
  file: string;
  name: string;
  line: number;
  lines: number;
}

export interface FileSize {
  file: string;
  lines: number;
}

type Node = { type: string; start: number; end: number; [key: string]: unknown };

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

function sourceFiles(path: string): string[] {
  if (statSync(path).isFile()) return [path];
  const out: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'dist') out.push(...sourceFiles(full));
    } else if (/\.(ts|tsx|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      out.push(full);
    }
  }
  return out.sort();
}

function keyName(key: unknown): string | undefined {
  if (!key || typeof key !== 'object') return undefined;
  const node = key as Node;
  if (node.type === 'Identifier' || node.type === 'PrivateIdentifier') return String(node.name);
  if (node.type === 'Literal') return String(node.value);
  return undefined;
}

/** The name a reader would look for: the function's own, or what it is assigned to. */
function functionName(node: Node, parent: Node | undefined, owner: string | undefined): string {
  const own = keyName(node.id);
  if (own) return owner ? `${owner}.${own}` : own;
  let name: string | undefined;
  if (parent?.type === 'VariableDeclarator') name = keyName(parent.id);
  else if (parent?.type === 'MethodDefinition' || parent?.type === 'Property' || parent?.type === 'PropertyDefinition')
    name = keyName(parent.key);
  else if (parent?.type === 'AssignmentExpression') {
    const left = parent.left as Node;
    name = left.type === 'MemberExpression' ? keyName(left.property) : keyName(left);
  }
  if (!name) name = '(anonymous)';
  return owner ? `${owner}.${name}` : name;
}

/** Every function of one file with its length in lines. */
export function measureSource(file: string, text: string): FunctionSize[] {
  // Line starts by UTF-16 offset, the offsets the parser reports.
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const ast = parseAst(text, { lang: file.endsWith('x') ? 'tsx' : 'ts' }, file) as unknown as Node;
  const out: FunctionSize[] = [];
  const visit = (node: Node, parent: Node | undefined, owner: string | undefined): void => {
    let nextOwner = owner;
    if (node.type === 'ClassDeclaration' || node.type === 'ClassExpression') {
      nextOwner = keyName(node.id) ?? (parent?.type === 'VariableDeclarator' ? keyName(parent.id) : undefined) ?? owner;
    }
    if (FUNCTION_TYPES.has(node.type)) {
      const line = lineOf(node.start);
      out.push({ file, name: functionName(node, parent, owner), line, lines: lineOf(Math.max(node.start, node.end - 1)) - line + 1 });
    }
    for (const value of Object.values(node)) {
      if (Array.isArray(value)) {
        for (const item of value) if (item && typeof item === 'object' && 'type' in item) visit(item as Node, node, nextOwner);
      } else if (value && typeof value === 'object' && 'type' in value) {
        visit(value as Node, node, nextOwner);
      }
    }
  };
  visit(ast, undefined, undefined);
  return out;
}

export function measure(paths: string[], root = process.cwd()): { functions: FunctionSize[]; files: FileSize[] } {
  const functions: FunctionSize[] = [];
  const files: FileSize[] = [];
  for (const path of paths) {
    for (const full of sourceFiles(path)) {
      const file = relative(root, full);
      const text = readFileSync(full, 'utf8');
      files.push({ file, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) });
      functions.push(...measureSource(file, text));
    }
  }
  functions.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
  files.sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file));
  return { functions, files };
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function parseArgs(argv: string[]): { top: number; over: number; paths: string[] } {
  let top = 15;
  let over = 150;
  const paths: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--top' || arg === '--over') {
      const value = argv[++i];
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) {
        throw new Error(`${arg} needs a whole number of at least 1, not ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
      }
      if (arg === '--top') top = n;
      else over = n;
    } else if (arg.startsWith('-')) {
      throw new Error(`unknown option ${arg}: use --top N, --over LINES and folders or files`);
    } else {
      try {
        statSync(arg);
      } catch {
        throw new Error(`${arg}: no such file or folder`);
      }
      paths.push(arg);
    }
  }
  return { top, over, paths: paths.length > 0 ? paths : ['src'] };
}

if (import.meta.main) {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`code-size: ${(error as Error).message}`);
    process.exit(2);
  }
  const { functions, files } = measure(args.paths);
  const longer = functions.filter((f) => f.lines > args.over);
  console.log(`The ${args.top} longest functions in ${args.paths.join(', ')} (lines):\n`);
  console.log(
    table(
      ['lines', 'function', 'where'],
      functions.slice(0, args.top).map((f) => [String(f.lines), f.name, `${f.file}:${f.line}`]),
    ),
  );
  console.log(`\nThe ${args.top} longest files (lines):\n`);
  console.log(table(['lines', 'file'], files.slice(0, args.top).map((f) => [String(f.lines), f.file])));
  console.log(
    `\n${functions.length} functions in ${files.length} files; ${longer.length} over ${args.over} lines${
      longer.length > 0 ? `: ${longer.map((f) => `${f.name} (${f.file}, ${f.lines})`).join(', ')}` : ''
    }`,
  );
}
