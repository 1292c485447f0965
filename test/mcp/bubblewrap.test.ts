import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainedPath } from '../../src/tools/mcp/server-config.ts';
import { detectContainmentHost } from '../../src/tools/mcp/stdio-containment.ts';
import { tempDir } from '../support/temp-dir.ts';
import { bin, connection, stdioConfig, testServerConfig } from './support.ts';

const host = detectContainmentHost();

describe('bubblewrap sandbox', () => {
  if (!host.bwrapPath) {
    it.skip('skipped: bwrap is not installed here (apt-get install bubblewrap to run these)', () => {});
    return;
  }

  let listener: Server | undefined;
  afterEach(() => {
    listener?.close();
    listener = undefined;
  });

  function sandboxed(options: { network?: boolean; paths?: ContainedPath[] } = {}) {
    const cwd = tempDir('agentd-bwrap-cwd-');
    return {
      cwd,
      c: connection({
        name: 'boxed',
        config: testServerConfig(cwd, {
          containment: {
            sandbox: 'bubblewrap',
            network: options.network ?? false,
            paths: options.paths ?? [],
          },
        }),
      }),
    };
  }

  async function text(promise: Promise<{ content: unknown[]; isError?: boolean }>) {
    const result = await promise;
    const first = result.content[0] as { text: string };
    return { text: first.text, isError: result.isError === true };
  }

  it('shows the server only its declared paths, read-only or writable as declared', async () => {
    const readable = tempDir('agentd-bwrap-ro-');
    const writable = tempDir('agentd-bwrap-rw-');
    const hidden = tempDir('agentd-bwrap-hidden-');
    writeFileSync(join(readable, 'in.txt'), 'visible');
    writeFileSync(join(hidden, 'secret.txt'), 'hidden');
    const { c, cwd } = sandboxed({
      paths: [
        { path: readable, writable: false },
        { path: writable, writable: true },
      ],
    });

    expect(await text(c.callTool('read-file', { path: join(readable, 'in.txt') }))).toEqual({
      text: 'visible',
      isError: false,
    });
    const denied = await text(c.callTool('write-file', { path: join(readable, 'x'), text: 'no' }));
    expect(denied).toMatchObject({ isError: true, text: expect.stringMatching(/EROFS|read-only/) });

    await c.callTool('write-file', { path: join(writable, 'out.txt'), text: 'written' });
    expect(readFileSync(join(writable, 'out.txt'), 'utf8')).toBe('written');
    await c.callTool('write-file', { path: 'own.txt', text: 'cwd' });
    expect(readFileSync(join(cwd, 'own.txt'), 'utf8')).toBe('cwd');

    const secret = await text(c.callTool('read-file', { path: join(hidden, 'secret.txt') }));
    expect(secret).toMatchObject({ isError: true, text: expect.stringMatching(/ENOENT/) });
    const home = await text(c.callTool('read-file', { path: '/root/.bashrc' }));
    expect(home.isError).toBe(true);
  });

  it('gives it a fresh /tmp', async () => {
    const dir = tempDir('agentd-bwrap-tmp-');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'host.txt'), 'host');
    const { c } = sandboxed();
    const result = await text(c.callTool('read-file', { path: join(dir, 'sub', 'host.txt') }));
    expect(result).toMatchObject({ isError: true, text: expect.stringMatching(/ENOENT/) });
  });

  async function listen(): Promise<number> {
    listener = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => listener!.listen(0, '127.0.0.1', resolve));
    const address = listener.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  it('has no network unless the entry grants it', async () => {
    const port = await listen();
    const closed = sandboxed();
    const refused = await text(closed.c.callTool('connect', { host: '127.0.0.1', port }));
    expect(refused.isError).toBe(true);

    const open = sandboxed({ network: true });
    expect(await text(open.c.callTool('connect', { host: '127.0.0.1', port }))).toEqual({
      text: 'connected',
      isError: false,
    });
  });

  it('passes only declared variables into the sandbox', async () => {
    process.env.AGENTD_TEST_PROVIDER_KEY = 'sk-should-not-leak';
    try {
      const c = connection({
        name: 'everything',
        config: stdioConfig(bin('mcp-server-everything'), ['stdio'], tempDir(), {
          env: { DECLARED: 'yes' },
          containment: { sandbox: 'bubblewrap' },
        }),
      });
      const result = await text(c.callTool('get-env', {}));
      const env = JSON.parse(result.text) as Record<string, string>;
      // bwrap sets PWD to the working directory it enters
      expect(
        Object.keys(env)
          .filter((k) => k !== 'PWD')
          .sort(),
      ).toEqual(['DECLARED', 'PATH']);
      expect(result.text).not.toContain('sk-should-not-leak');
    } finally {
      delete process.env.AGENTD_TEST_PROVIDER_KEY;
    }
  });
});
