import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { measure, measureSource } from '../../scripts/code-size.ts';
import { repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const script = join(repoRoot, 'scripts/code-size.ts');
const run = (args: string[]) =>
  spawnSync(process.execPath, [script, ...args], { cwd: repoRoot, encoding: 'utf8' });

describe('scripts/code-size.ts', () => {
  it('measures every kind of function by its lines, named as a reader looks for it; braces in strings and comments do not count', () => {
    const source = [
      'export function outer(a: number): { b: number } {', // 1
      "  const s = '}}}'; // }", // 2
      '  const inner = (x: number) => {', // 3
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a template in the measured source
      '    return `${x}}`;', // 4
      '  };', // 5
      '  return { b: inner(a).length };', // 6
      '}', // 7
      'class Box {', // 8
      '  open(): void {', // 9
      '    /* { */', // 10
      '  }', // 11
      '}', // 12
      'const handlers = { onEvent: function () {} };', // 13
    ].join('\n');
    const sizes = measureSource('x.ts', source).map(({ name, line, lines }) => ({
      name,
      line,
      lines,
    }));
    expect(sizes).toEqual([
      { name: 'outer', line: 1, lines: 7 },
      { name: 'inner', line: 3, lines: 3 },
      { name: 'Box.open', line: 9, lines: 3 },
      { name: 'onEvent', line: 13, lines: 1 },
    ]);
  });

  it('orders functions and files longest first', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.ts'), 'function short() {}\n');
    writeFileSync(join(dir, 'b.ts'), 'function long() {\n\n\n}\nfunction mid() {\n}\n');
    const { functions, files } = measure([dir], dir);
    expect(functions.map((f) => [f.name, f.lines])).toEqual([
      ['long', 4],
      ['mid', 2],
      ['short', 1],
    ]);
    expect(files).toEqual([
      { file: 'b.ts', lines: 6 },
      { file: 'a.ts', lines: 1 },
    ]);
  });

  it('prints the tables for src and exits 0 whatever it finds', () => {
    const result = run(['--top', '3', '--over', '1']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('The 3 longest functions in src (lines):');
    expect(result.stdout).toContain('The 3 longest files (lines):');
    expect(result.stdout).toMatch(/\d+ functions in \d+ files; \d+ over 1 lines: /);
  });

  it.each([
    [['--top', 'x'], 'code-size: --top needs a whole number of at least 1, not "x"'],
    [['--over'], 'code-size: --over needs a whole number of at least 1, not nothing'],
    [['--top', '0'], 'code-size: --top needs a whole number of at least 1, not "0"'],
    [
      ['--fast'],
      'code-size: unknown option --fast: use --top N, --over LINES and folders or files',
    ],
    [['no/such/folder'], 'code-size: no/such/folder: no such file or folder'],
  ])('a bad argument %j is one line and exit 2', (args, message) => {
    const result = run(args);
    expect(result.stderr).toBe(`${message}\n`);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(2);
  });
});
