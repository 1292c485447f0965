import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createFsServer, type FsConnectorOptions } from '../../src/tools/connectors/index.ts';
import { tempDir } from '../support/temp-dir.ts';
import { connect } from './connect.ts';

/** A root with a few files, and a sibling directory outside it holding a secret. */
function layout() {
  const base = tempDir('agentd-fs-');
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(join(root, 'src'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'README.md'), '# demo\nhello world\n');
  writeFileSync(join(root, 'src', 'a.ts'), 'export const a = 1;\n// TODO: more\n');
  writeFileSync(join(outside, 'secret.txt'), 'top secret\n');
  return { base, root, outside };
}

async function fsClient(options: FsConnectorOptions) {
  return connect(createFsServer(options));
}

function expectOneLine(text: string) {
  expect(text.split('\n')).toHaveLength(1);
}

describe('fs connector', () => {
  test('lists its tools with accurate annotations', async () => {
    const { root } = layout();
    const { client } = await fsClient({ roots: [root] });
    const { tools } = await client.listTools();
    const annotations = Object.fromEntries(tools.map((tool) => [tool.name, tool.annotations]));
    expect(Object.keys(annotations).sort()).toEqual(
      ['delete', 'edit', 'list', 'move', 'read', 'search', 'write'].sort(),
    );
    for (const name of ['list', 'read', 'search']) {
      expect(annotations[name]).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
      });
    }
    expect(annotations.write).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
    });
    expect(annotations.edit).toMatchObject({ destructiveHint: true, idempotentHint: false });
    expect(annotations.move).toMatchObject({ destructiveHint: true, idempotentHint: false });
    expect(annotations.delete).toMatchObject({ destructiveHint: true, idempotentHint: true });
  });

  test('writes, reads, lists, edits, moves and deletes inside the root', async () => {
    const { root } = layout();
    const fs = await fsClient({ roots: [root] });

    expect((await fs.call('write', { path: 'notes/todo.md', content: 'one\ntwo\n' })).text).toBe(
      'created notes/todo.md (8 bytes)',
    );
    expect((await fs.call('read', { path: 'notes/todo.md' })).text).toBe('one\ntwo\n');

    const listing = await fs.call('list', { path: '.' });
    expect(listing.text.split('\n')).toEqual(['README.md (19 bytes)', 'notes/', 'src/']);
    const deep = await fs.call('list', { recursive: true });
    expect(deep.text).toContain('notes/todo.md (8 bytes)');
    expect(deep.text).toContain('src/a.ts');

    const edited = await fs.call('edit', {
      path: 'notes/todo.md',
      old_string: 'two',
      new_string: 'three',
    });
    expect(edited).toMatchObject({ isError: false, text: 'edited notes/todo.md at line 2' });
    expect(readFileSync(join(root, 'notes/todo.md'), 'utf8')).toBe('one\nthree\n');

    expect((await fs.call('move', { from: 'notes/todo.md', to: 'done/todo.md' })).text).toBe(
      'moved notes/todo.md to done/todo.md',
    );
    expect(existsSync(join(root, 'done/todo.md'))).toBe(true);
    expect(existsSync(join(root, 'notes/todo.md'))).toBe(false);

    expect((await fs.call('delete', { path: 'done/todo.md' })).text).toBe('deleted done/todo.md');
    expect((await fs.call('delete', { path: 'done/todo.md' })).text).toBe(
      'done/todo.md does not exist; nothing deleted',
    );
    const notEmpty = await fs.call('delete', { path: 'src' });
    expect(notEmpty.isError).toBe(true);
    expect(notEmpty.text).toContain('pass recursive: true');
    expect((await fs.call('delete', { path: 'src', recursive: true })).isError).toBe(false);
    expect(existsSync(join(root, 'src'))).toBe(false);
  });

  test('accepts absolute paths inside any root and through a symlinked root', async () => {
    const { base, root } = layout();
    const second = join(base, 'second');
    mkdirSync(second);
    writeFileSync(join(second, 'b.txt'), 'bee\n');
    const alias = join(base, 'alias');
    symlinkSync(root, alias);
    const fs = await fsClient({ roots: [alias, second] });
    expect((await fs.call('read', { path: join(second, 'b.txt') })).text).toBe('bee\n');
    expect((await fs.call('read', { path: join(alias, 'README.md') })).text).toContain('hello');
    expect((await fs.call('read', { path: join(root, 'README.md') })).text).toContain('hello');
    expect((await fs.call('read', { path: 'src/../README.md' })).text).toContain('hello');
  });

  test('refuses ".." traversal out of the root, naming the path and the roots', async () => {
    const { root, outside } = layout();
    const fs = await fsClient({ roots: [root] });
    for (const [tool, args] of [
      ['read', { path: '../outside/secret.txt' }],
      ['list', { path: '..' }],
      ['search', { pattern: 'secret', path: '../outside' }],
      ['write', { path: '../outside/new.txt', content: 'x' }],
      ['edit', { path: 'src/../../outside/secret.txt', old_string: 'top', new_string: 'bottom' }],
      ['move', { from: 'README.md', to: '../outside/README.md' }],
      ['delete', { path: '../outside/secret.txt' }],
    ] as const) {
      const outcome = await fs.call(tool, args);
      expect(outcome.isError, tool).toBe(true);
      expect(outcome.text).toMatch(/leads outside the allowed roots through "\.\."/);
      expect(outcome.text).toContain(root);
      expectOneLine(outcome.text);
    }
    expect(existsSync(join(outside, 'new.txt'))).toBe(false);
    expect(existsSync(join(root, 'README.md'))).toBe(true);
  });

  test('refuses absolute paths outside the roots', async () => {
    const { root, outside } = layout();
    const fs = await fsClient({ roots: [root] });
    const read = await fs.call('read', { path: join(outside, 'secret.txt') });
    expect(read).toMatchObject({ isError: true });
    expect(read.text).toBe(
      `path "${join(outside, 'secret.txt')}" is outside the allowed roots (allowed: ${root}); use a path inside them`,
    );
    expect((await fs.call('read', { path: '/etc/passwd' })).text).toContain(
      'is outside the allowed roots',
    );
    const write = await fs.call('write', { path: join(outside, 'x.txt'), content: 'x' });
    expect(write.isError).toBe(true);
    expect(existsSync(join(outside, 'x.txt'))).toBe(false);
    expect((await fs.call('delete', { path: join(outside, 'secret.txt') })).isError).toBe(true);
    expect(existsSync(join(outside, 'secret.txt'))).toBe(true);
  });

  test('refuses symlinks whose target leaves the root, for reading, writing and new files', async () => {
    const { root, outside } = layout();
    symlinkSync(outside, join(root, 'escape-dir'));
    symlinkSync(join(outside, 'secret.txt'), join(root, 'escape-file'));
    symlinkSync(join(outside, 'planted.txt'), join(root, 'dangling'));
    const fs = await fsClient({ roots: [root] });

    const cases: Array<[string, Record<string, unknown>]> = [
      ['read', { path: 'escape-file' }],
      ['read', { path: 'escape-dir/secret.txt' }],
      ['list', { path: 'escape-dir' }],
      ['search', { pattern: 'secret', path: 'escape-dir' }],
      ['write', { path: 'escape-file', content: 'overwritten' }],
      ['write', { path: 'escape-dir/new.txt', content: 'x' }],
      ['write', { path: 'escape-dir/deeper/new.txt', content: 'x' }],
      ['write', { path: 'dangling', content: 'planted' }],
      ['edit', { path: 'escape-file', old_string: 'top', new_string: 'bottom' }],
      ['move', { from: 'escape-dir/secret.txt', to: 'stolen.txt' }],
      ['move', { from: 'README.md', to: 'escape-dir/README.md' }],
      ['delete', { path: 'escape-dir/secret.txt' }],
      ['delete', { path: 'escape-file' }],
    ];
    for (const [tool, args] of cases) {
      const outcome = await fs.call(tool, args);
      expect(outcome.isError, `${tool} ${JSON.stringify(args)}`).toBe(true);
      expect(outcome.text).toMatch(/goes through a symlink that leads outside the allowed roots/);
      expectOneLine(outcome.text);
    }
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('top secret\n');
    expect(existsSync(join(outside, 'planted.txt'))).toBe(false);
    expect(existsSync(join(outside, 'new.txt'))).toBe(false);
    expect(existsSync(join(outside, 'deeper'))).toBe(false);
    expect(existsSync(join(root, 'stolen.txt'))).toBe(false);

    // Listing shows the links without following them; searching never enters them.
    expect((await fs.call('list')).text).toContain('escape-dir@');
    expect((await fs.call('search', { pattern: 'secret' })).text).toMatch(/^no matches/);
  });

  test('follows symlinks that stay inside the root, and deletes a link rather than its target', async () => {
    const { root } = layout();
    symlinkSync(join(root, 'src'), join(root, 'code'));
    symlinkSync(join(root, 'README.md'), join(root, 'readme-link'));
    const fs = await fsClient({ roots: [root] });
    expect((await fs.call('read', { path: 'code/a.ts' })).text).toContain('export const a');
    expect((await fs.call('delete', { path: 'readme-link' })).text).toBe('deleted readme-link');
    expect(existsSync(join(root, 'README.md'))).toBe(true);
  });

  test('refuses to delete or move a root', async () => {
    const { root } = layout();
    const fs = await fsClient({ roots: [root] });
    const outcome = await fs.call('delete', { path: '.', recursive: true });
    expect(outcome).toMatchObject({ isError: true });
    expect(outcome.text).toBe('path "." is an allowed root; it cannot be deleted');
    expect((await fs.call('move', { from: root, to: 'elsewhere' })).isError).toBe(true);
    expect(existsSync(join(root, 'README.md'))).toBe(true);
  });

  test('reads long files in pieces and refuses binary files', async () => {
    const { root } = layout();
    writeFileSync(join(root, 'long.txt'), 'x'.repeat(25));
    writeFileSync(join(root, 'blob.bin'), Buffer.from([1, 2, 0, 3]));
    const fs = await fsClient({ roots: [root], maxReadBytes: 10 });
    expect((await fs.call('read', { path: 'long.txt' })).text).toBe(
      `${'x'.repeat(10)}\n[truncated: bytes 0-10 of 25; read on with offset 10]`,
    );
    expect((await fs.call('read', { path: 'long.txt', offset: 20 })).text).toBe(
      `${'x'.repeat(5)}\n[bytes 20-25 of 25]`,
    );
    const binary = await fs.call('read', { path: 'blob.bin' });
    expect(binary).toMatchObject({ isError: true });
    expect(binary.text).toBe('path "blob.bin" is a binary file (4 bytes); read shows text only');
    const missing = await fs.call('read', { path: 'nope.txt' });
    expect(missing).toMatchObject({ isError: true, text: 'path "nope.txt" does not exist' });
  });

  test('does not split a UTF-8 character at the read limit', async () => {
    const { root } = layout();
    writeFileSync(join(root, 'utf8.txt'), 'aéé');
    const fs = await fsClient({ roots: [root], maxReadBytes: 4 });
    expect((await fs.call('read', { path: 'utf8.txt' })).text).toBe(
      'aé\n[truncated: bytes 0-3 of 5; read on with offset 3]',
    );
  });

  test('searches like ripgrep: regex or literal, case, include, skipping binary, node_modules and .git', async () => {
    const { root } = layout();
    mkdirSync(join(root, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(join(root, 'node_modules', 'dep', 'index.js'), '// TODO: dependency\n');
    mkdirSync(join(root, '.git'));
    writeFileSync(join(root, '.git', 'config'), 'TODO in git\n');
    writeFileSync(join(root, 'image.bin'), Buffer.concat([Buffer.from('TODO'), Buffer.from([0])]));
    writeFileSync(join(root, 'src', 'b.js'), 'const todo = "a.b";\n');
    const fs = await fsClient({ roots: [root] });

    expect((await fs.call('search', { pattern: 'TODO' })).text).toBe('src/a.ts:2: // TODO: more');
    expect(
      (await fs.call('search', { pattern: 'todo', ignore_case: true })).text.split('\n'),
    ).toEqual(['src/a.ts:2: // TODO: more', 'src/b.js:1: const todo = "a.b";']);
    expect((await fs.call('search', { pattern: 'a.b', literal: true })).text).toBe(
      'src/b.js:1: const todo = "a.b";',
    );
    expect((await fs.call('search', { pattern: 'const', include: '*.{js,mjs}' })).text).toBe(
      'src/b.js:1: const todo = "a.b";',
    );
    expect((await fs.call('search', { pattern: 'hello', path: 'README.md' })).text).toBe(
      'README.md:2: hello world',
    );
    const invalid = await fs.call('search', { pattern: '(unclosed' });
    expect(invalid.isError).toBe(true);
    expect(invalid.text).toContain('is not a valid regular expression');
    expectOneLine(invalid.text);
  });

  test('caps search and list results', async () => {
    const { root } = layout();
    writeFileSync(join(root, 'many.txt'), 'match\n'.repeat(10));
    for (let i = 0; i < 6; i++) writeFileSync(join(root, 'src', `f${i}.txt`), '');
    const fs = await fsClient({ roots: [root], maxResults: 3 });
    const search = (await fs.call('search', { pattern: 'match' })).text.split('\n');
    expect(search).toEqual([
      'many.txt:1: match',
      'many.txt:2: match',
      'many.txt:3: match',
      '[results capped at 3; narrow the pattern, path or include]',
    ]);
    const list = (await fs.call('list', { path: 'src' })).text.split('\n');
    expect(list).toHaveLength(4);
    expect(list[3]).toBe('[listing capped at 3 entries; list a subdirectory for more]');
  });

  test('a pattern that backtracks without end is stopped, and the server keeps answering', async () => {
    const { root } = layout();
    writeFileSync(join(root, 'trap.txt'), `${'a'.repeat(40)}!\n`);
    const fs = await fsClient({ roots: [root], searchTimeMs: 100 });
    const outcome = await fs.call('search', { pattern: '^(a+)+$' });
    expect(outcome).toMatchObject({
      isError: true,
      text: 'search for "^(a+)+$" took longer than 2100 ms and was stopped; simplify the pattern, pass literal: true or narrow the path',
    });
    expect((await fs.call('read', { path: 'README.md' })).text).toContain('hello world');
  });

  test('edit fails clearly when the old text is missing or not unique', async () => {
    const { root } = layout();
    writeFileSync(join(root, 'dup.txt'), 'same\nsame\n');
    const fs = await fsClient({ roots: [root] });
    const missing = await fs.call('edit', {
      path: 'dup.txt',
      old_string: 'other',
      new_string: 'x',
    });
    expect(missing).toMatchObject({
      isError: true,
      text: 'old_string was not found in "dup.txt"; read the file and copy the exact text, whitespace included',
    });
    const twice = await fs.call('edit', { path: 'dup.txt', old_string: 'same', new_string: 'x' });
    expect(twice).toMatchObject({
      isError: true,
      text: 'old_string occurs 2 times in "dup.txt"; include more surrounding text so it occurs once',
    });
    expect(readFileSync(join(root, 'dup.txt'), 'utf8')).toBe('same\nsame\n');
    expect(
      (await fs.call('edit', { path: 'dup.txt', old_string: 'same\nsame', new_string: 'one' }))
        .isError,
    ).toBe(false);
    expect(readFileSync(join(root, 'dup.txt'), 'utf8')).toBe('one\n');
  });

  test('move refuses to replace an existing file unless asked', async () => {
    const { root } = layout();
    writeFileSync(join(root, 'other.md'), 'other\n');
    const fs = await fsClient({ roots: [root] });
    const refused = await fs.call('move', { from: 'other.md', to: 'README.md' });
    expect(refused).toMatchObject({
      isError: true,
      text: 'path "README.md" already exists; pass overwrite: true to replace it',
    });
    expect(
      (await fs.call('move', { from: 'other.md', to: 'README.md', overwrite: true })).isError,
    ).toBe(false);
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toBe('other\n');
    const into = await fs.call('move', { from: 'src', to: 'src/inner' });
    expect(into.text).toBe('cannot move "src" into itself ("src/inner")');
  });

  test('odd paths fail in one line: a directory, a FIFO, a file used as a directory, a symlink loop', async () => {
    const { root } = layout();
    execFileSync('mkfifo', [join(root, 'pipe')]);
    symlinkSync(join(root, 'loop-b'), join(root, 'loop-a'));
    symlinkSync(join(root, 'loop-a'), join(root, 'loop-b'));
    const fs = await fsClient({ roots: [root] });
    expect((await fs.call('read', { path: 'src' })).text).toBe(
      'path "src" is a directory; give a file path (list shows what is in it)',
    );
    expect((await fs.call('read', { path: 'pipe' })).text).toBe(
      'path "pipe" is not a regular file',
    );
    expect((await fs.call('write', { path: 'pipe', content: 'x' })).text).toBe(
      'path "pipe" is not a regular file',
    );
    expect((await fs.call('read', { path: 'README.md/x' })).text).toBe(
      'path "README.md/x" has a part that is not a directory',
    );
    for (const tool of ['read', 'write'] as const) {
      const loop = await fs.call(tool, { path: 'loop-a', content: 'x' });
      expect(loop.isError).toBe(true);
      expect(loop.text).toMatch(/^path "loop-a" /);
      expectOneLine(loop.text);
    }
  });

  test('a missing root is a one-line error when the connector is created', () => {
    expect(() => createFsServer({ roots: ['/nonexistent/agentd-root'] })).toThrow(
      'fs connector: root "/nonexistent/agentd-root" does not exist; create it or fix it',
    );
  });
});
