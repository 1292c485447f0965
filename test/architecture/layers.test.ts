import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseAst } from 'rolldown/parseAst';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.ts';

// docs/architecture.md's table of folders says, for each folder of src/, what it may import.
// These tests read every import of src/ (static, re-exports, `import()`) and fail on one the
// table does not allow, so the table stays true.

interface Import {
  file: string;
  target: string;
  typeOnly: boolean;
}

/** A folder's row: the folders it may import; `types` those it may import types from only. */
interface Allowed {
  full: Set<string>;
  types: Set<string>;
}

type Node = { type: string; [key: string]: unknown };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** The relative imports of one file, resolved against the repository's root. */
function importsOf(file: string): Import[] {
  const out: Import[] = [];
  const add = (source: unknown, typeOnly: boolean) => {
    if (typeof source === 'string' && source.startsWith('.')) {
      out.push({
        file: relative(repoRoot, file),
        target: relative(repoRoot, resolve(dirname(file), source)),
        typeOnly,
      });
    }
  };
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const n = node as Node;
    const source = (n.source as Node | null | undefined)?.value;
    if (n.type === 'ImportDeclaration') add(source, n.importKind === 'type');
    else if (n.type === 'ExportNamedDeclaration' || n.type === 'ExportAllDeclaration')
      add(source, n.exportKind === 'type');
    else if (n.type === 'ImportExpression') add(source, false);
    for (const value of Object.values(n)) if (value && typeof value === 'object') visit(value);
  };
  visit(parseAst(readFileSync(file, 'utf8'), { lang: file.endsWith('x') ? 'tsx' : 'ts' }, file));
  return out;
}

/** The part of src/ a path is in: `runtime` for src/runtime/..., `index.ts` for src/index.ts. */
function partOf(path: string): string | undefined {
  const parts = path.split('/');
  return parts[0] === 'src' ? parts[1] : undefined;
}

/** The rows of the folder table: `| `src/x/` | what it holds | may import |`. */
function tableRows(markdown: string): Map<string, Allowed> {
  const rows = new Map<string, Allowed>();
  for (const line of markdown.split('\n')) {
    const match = /^\| `src\/([a-z-]+\/|index\.ts)` \|.*\| ([^|]+) \|$/.exec(line);
    if (!match?.[1] || !match[2]) continue;
    const part = match[1].replace(/\/$/, '');
    if (rows.has(part)) throw new Error(`docs/architecture.md has two lines for src/${match[1]}`);
    const allowed: Allowed = { full: new Set(), types: new Set() };
    const cell = match[2].trim();
    if (cell !== 'nothing') {
      for (const item of cell.split(',').map((s) => s.trim())) {
        const entry = /^`([a-z-]+)`( \(types\))?$/.exec(item);
        if (!entry?.[1])
          throw new Error(
            `docs/architecture.md, src/${match[1]}: "${item}" is not \`folder\` or \`folder\` (types)`,
          );
        (entry[2] ? allowed.types : allowed.full).add(entry[1]);
      }
    }
    rows.set(part, allowed);
  }
  return rows;
}

/** Imports across parts that the rows do not allow, one line each. */
function violations(rows: Map<string, Allowed>, imports: Import[]): string[] {
  const out: string[] = [];
  for (const { file, target, typeOnly } of imports) {
    const from = partOf(file);
    const to = partOf(target);
    if (!from || !to || from === to) continue;
    const allowed = rows.get(from);
    if (!allowed) {
      out.push(`${file}: src/${from} has no line in docs/architecture.md`);
    } else if (!allowed.full.has(to) && !(typeOnly && allowed.types.has(to))) {
      const what = allowed.types.has(to)
        ? `a value from src/${to} (only its types are allowed)`
        : `src/${to}`;
      out.push(
        `${file} imports ${what} (${target}): allow it in docs/architecture.md or remove the import`,
      );
    }
  }
  return out;
}

const markdown = readFileSync(join(repoRoot, 'docs/architecture.md'), 'utf8');

describe('docs/architecture.md: the layers', () => {
  it('has one line for every folder of src/ (and src/index.ts), and none for a folder that is not there', () => {
    const rows = tableRows(markdown);
    const parts = readdirSync(join(repoRoot, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.name.endsWith('.ts'))
      .map((e) => e.name)
      .sort();
    expect([...rows.keys()].sort()).toEqual(parts);
    for (const [part, allowed] of rows) {
      for (const to of [...allowed.full, ...allowed.types]) {
        expect(parts, `src/${part} may import ${to}: no such folder`).toContain(to);
      }
    }
  });

  it('every import in src/ between folders is one its folder may make', () => {
    const rows = tableRows(markdown);
    const imports = sourceFiles(join(repoRoot, 'src')).flatMap(importsOf);
    // The reading itself: it saw the imports of the loop (a guard against reading nothing).
    expect(
      imports.some(
        (i) => i.file === 'src/runtime/agent-loop.ts' && i.target.startsWith('src/core/'),
      ),
    ).toBe(true);
    expect(violations(rows, imports)).toEqual([]);
  });

  it('the console imports nothing outside console/ (it talks to agentd over HTTP)', () => {
    const outside = sourceFiles(join(repoRoot, 'console/src'))
      .flatMap(importsOf)
      .filter((i) => !i.target.startsWith('console/'));
    expect(outside).toEqual([]);
  });

  it('the check fails on an import its folder may not make, and on a value import where only types are allowed', () => {
    const rows = tableRows(
      [
        '| `src/core/` | types | nothing |',
        '| `src/store/` | SQL | `core`, `config` (types) |',
        '| `src/config/` | settings | `core` |',
      ].join('\n'),
    );
    const imports: Import[] = [
      { file: 'src/store/a.ts', target: 'src/core/ids.ts', typeOnly: false },
      { file: 'src/store/a.ts', target: 'src/config/config.ts', typeOnly: true },
      { file: 'src/store/b.ts', target: 'src/config/config.ts', typeOnly: false },
      { file: 'src/core/c.ts', target: 'src/store/store.ts', typeOnly: true },
      { file: 'src/runtime/d.ts', target: 'src/core/ids.ts', typeOnly: false },
      { file: 'src/core/e.ts', target: 'src/core/ids.ts', typeOnly: false },
    ];
    expect(violations(rows, imports)).toEqual([
      'src/store/b.ts imports a value from src/config (only its types are allowed) (src/config/config.ts): allow it in docs/architecture.md or remove the import',
      'src/core/c.ts imports src/store (src/store/store.ts): allow it in docs/architecture.md or remove the import',
      'src/runtime/d.ts: src/runtime has no line in docs/architecture.md',
    ]);
    expect(() => tableRows('| `src/core/` | types | core, store |')).toThrow(
      'docs/architecture.md, src/core/: "core" is not `folder` or `folder` (types)',
    );
  });
});
