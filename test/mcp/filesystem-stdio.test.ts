import { mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { McpError } from '../../src/tools/mcp/mcp-error.ts';
import { mcpTools } from '../../src/tools/mcp/mcp-tool.ts';
import type { Tool } from '../../src/tools/tool.ts';
import { tempDir } from '../support/temp-dir.ts';
import { bin, connection, stdioConfig, toolContext } from './support.ts';

describe('server-filesystem over stdio', () => {
  let data = '';
  let outside = '';
  beforeEach(() => {
    data = realpathSync(tempDir('agentd-mcp-fs-data-'));
    outside = realpathSync(tempDir('agentd-mcp-fs-outside-'));
  });

  async function tools(options: { roots?: string[] } = {}): Promise<Map<string, Tool>> {
    const c = connection({
      name: 'fs',
      config: stdioConfig(bin('mcp-server-filesystem'), [data], tempDir('agentd-mcp-fs-cwd-')),
      ...(options.roots ? { roots: options.roots } : {}),
    });
    return new Map((await mcpTools(c)).map((tool) => [tool.name, tool]));
  }

  it('writes, reads and lists files in the allowed folder', async () => {
    const fs = await tools();
    expect(fs.get('fs__write_file')?.idempotent).toBe(true); // idempotentHint
    expect(fs.get('fs__read_text_file')?.idempotent).toBe(true); // readOnlyHint
    expect(fs.get('fs__move_file')?.idempotent).toBe(false);

    const file = join(data, 'notes.txt');
    await fs.get('fs__write_file')!.execute({ path: file, content: 'one\ntwo\n' }, toolContext());
    expect(readFileSync(file, 'utf8')).toBe('one\ntwo\n');
    expect(await fs.get('fs__read_text_file')!.execute({ path: file }, toolContext())).toBe(
      'one\ntwo\n',
    );
    mkdirSync(join(data, 'sub'));
    const listing = await fs.get('fs__list_directory')!.execute({ path: data }, toolContext());
    expect(listing).toContain('[FILE] notes.txt');
    expect(listing).toContain('[DIR] sub');
  });

  it('turns the server refusing a path outside its folders into a tool error with its text', async () => {
    writeFileSync(join(outside, 'secret.txt'), 'no');
    const fs = await tools();
    const error = await fs
      .get('fs__read_text_file')!
      .execute({ path: join(outside, 'secret.txt') }, toolContext())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ kind: 'tool_error', server: 'fs' });
    expect((error as Error).message).toMatch(/Access denied - path outside allowed directories/);
  });

  it('checks arguments against the server schema before calling', async () => {
    const fs = await tools();
    const read = fs.get('fs__read_text_file')!;
    expect(read.validate({})).toMatchObject({ ok: false, error: expect.stringMatching(/path/) });
    expect(read.validate('notes.txt')).toEqual({
      ok: false,
      error: 'the arguments must be a JSON object',
    });
    expect(read.validate({ path: '/x' })).toEqual({ ok: true, value: { path: '/x' } });
  });

  it('offers roots when configured: the server then allows the roots, not its arguments', async () => {
    writeFileSync(join(outside, 'shared.txt'), 'from a root');
    const fs = await tools({ roots: [outside] });
    // The server asks for the roots once connected and applies them when the answer comes:
    // wait until it says it has (its own list of allowed folders), not for a while.
    const allowed = fs.get('fs__list_allowed_directories')!;
    while (!String(await allowed.execute({}, toolContext())).includes(outside)) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    const read = fs.get('fs__read_text_file')!;
    expect(await read.execute({ path: join(outside, 'shared.txt') }, toolContext())).toBe(
      'from a root',
    );
  });
});
