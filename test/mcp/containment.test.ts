import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { McpError } from '../../src/tools/mcp/mcp-error.ts';
import { mcpTools } from '../../src/tools/mcp/mcp-tool.ts';
import {
  type ContainmentHost,
  describeContainment,
  planStdioSpawn,
} from '../../src/tools/mcp/stdio-containment.ts';
import { tempDir } from '../support/temp-dir.ts';
import { bin, connection, stdioConfig, testServerConfig, toolContext, until } from './support.ts';

const leaked = 'AGENTD_TEST_PROVIDER_KEY';

describe('stdio containment without a sandbox', () => {
  beforeEach(() => {
    process.env[leaked] = 'sk-ant-should-never-reach-a-server';
  });
  afterEach(() => {
    delete process.env[leaked];
  });

  it('gives the server its declared variables and a PATH, nothing else of agentd', async () => {
    const c = connection({
      name: 'everything',
      config: stdioConfig(bin('mcp-server-everything'), ['stdio'], tempDir(), {
        env: { DECLARED_TOKEN: 'declared-value' },
      }),
    });
    const getEnv = (await mcpTools(c)).find((t) => t.name === 'everything__get-env')!;
    const env = JSON.parse((await getEnv.execute({}, toolContext())) as string) as Record<
      string,
      string
    >;
    expect(Object.keys(env).sort()).toEqual(['DECLARED_TOKEN', 'PATH']);
    expect(env.DECLARED_TOKEN).toBe('declared-value');
    expect(env.PATH?.split(':')[0]).toBe(process.execPath.replace(/\/node$/, ''));
    expect(JSON.stringify(env)).not.toContain('sk-ant');
  });

  it('runs the server in its own working directory, created if missing', async () => {
    const cwd = join(tempDir(), 'servers', 'test');
    const c = connection({ name: 'test', config: testServerConfig(cwd) });
    await c.callTool('write-file', { path: 'here.txt', text: 'in my cwd' });
    expect(readFileSync(join(cwd, 'here.txt'), 'utf8')).toBe('in my cwd');
  });

  it('cancels a call that runs past the time limit, with an error naming the server', async () => {
    const cwd = tempDir();
    const c = connection({
      name: 'test',
      config: testServerConfig(cwd, { containment: { callTimeoutMs: 400 } }),
    });
    const error = await c.callTool('slow', { ms: 10_000, tag: 'late' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as Error).message).toBe(
      'MCP server "test": tool "slow" took longer than the limit of 400 ms and was cancelled',
    );
    // The server notices the cancellation; on a loaded machine that can take a while.
    await until(() => existsSync(join(cwd, 'cancelled-late')), 60_000);
  }, 80_000);

  it('stops a server that sends more than the output limit, and starts it again', async () => {
    const c = connection({
      name: 'test',
      config: testServerConfig(tempDir(), { containment: { maxOutputBytes: 100_000 } }),
    });
    await expect(c.callTool('big', { bytes: 200_000 })).rejects.toMatchObject({
      kind: 'output_limit',
      message:
        'MCP server "test": tool "big" sent a message over the output limit of 100,000 bytes; the server was stopped and starts again on the next call',
    });
    expect(await c.callTool('big', { bytes: 1000 })).toMatchObject({
      content: [{ type: 'text', text: 'x'.repeat(1000) }],
    });
    expect(c.starts).toBe(2);
  });
});

describe('spawn plans', () => {
  const withBwrap: ContainmentHost = {
    bwrapPath: '/usr/bin/bwrap',
    envPath: '/usr/bin/env',
    nodeDir: '/opt/node/bin',
    isRoot: false,
  };
  const withoutBwrap: ContainmentHost = { ...withBwrap, bwrapPath: undefined };
  const config = (sandbox: 'none' | 'auto' | 'bubblewrap', network = false) =>
    stdioConfig('/bin/sh', ['-c', 'true'], '/srv/agentd/mcp/demo', {
      env: { API_TOKEN: 'secret-value', HOME: '/srv/agentd/mcp/demo' },
      containment: {
        sandbox,
        network,
        paths: [
          { path: '/data/in', writable: false },
          { path: '/data/out', writable: true },
        ],
      },
    });

  it('without a sandbox: env(1) drops what the SDK would add, values never on the command line', () => {
    const plan = planStdioSpawn('demo', config('auto'), withoutBwrap);
    expect(plan.sandboxed).toBe(false);
    expect(plan.command).toBe('/usr/bin/env');
    expect(plan.args).toEqual([
      '-u',
      'LOGNAME',
      '-u',
      'SHELL',
      '-u',
      'TERM',
      '-u',
      'USER',
      '--',
      '/bin/sh',
      '-c',
      'true',
    ]);
    expect(plan.env).toEqual({
      API_TOKEN: 'secret-value',
      HOME: '/srv/agentd/mcp/demo',
      PATH: '/opt/node/bin:/usr/local/bin:/usr/bin:/bin',
    });
    expect(plan.cwd).toBe('/srv/agentd/mcp/demo');
  });

  it('bubblewrap: no network, a fresh /tmp, declared paths only, dies with agentd', () => {
    const plan = planStdioSpawn('demo', config('bubblewrap'), withBwrap);
    expect(plan.sandboxed).toBe(true);
    expect(plan.command).toBe('/usr/bin/bwrap');
    const args = plan.args.join(' ');
    expect(args).toContain('--die-with-parent --new-session --unshare-all');
    expect(args).not.toContain('--share-net');
    expect(args).toContain('--tmpfs /tmp');
    expect(args).toContain('--ro-bind /data/in /data/in');
    expect(args).toContain('--bind /data/out /data/out');
    expect(args).toContain('--bind /srv/agentd/mcp/demo /srv/agentd/mcp/demo');
    expect(args).toContain('--ro-bind /opt/node /opt/node');
    // a command in /bin (or /) never gets the whole root mounted as its install
    expect(plan.args.join('\n')).not.toMatch(/^--ro-bind\n\/\n\/$/m);
    expect(args).toContain('--chdir /srv/agentd/mcp/demo');
    expect(args).toContain('--unsetenv USER');
    expect(args).not.toContain('--unsetenv HOME');
    expect(args).toMatch(/ -- \/bin\/sh -c true$/);
    expect(args).not.toContain('secret-value');
    expect(args).not.toContain('--cap-drop');
  });

  it('bubblewrap with network granted shares the network; as root it drops capabilities', () => {
    const args = planStdioSpawn('demo', config('auto', true), { ...withBwrap, isRoot: true }).args;
    expect(args).toContain('--share-net');
    expect(args.join(' ')).toContain('--cap-drop ALL');
  });

  it('refuses to start a server that requires bubblewrap where it is missing', () => {
    expect(() => planStdioSpawn('demo', config('bubblewrap'), withoutBwrap)).toThrow(
      'MCP server "demo": containment asks for bubblewrap but bwrap is not installed: install it (apt-get install bubblewrap) or set sandbox to auto or none',
    );
  });

  it('names a command that is not there', () => {
    const missing = { ...config('none'), command: 'no-such-mcp-server' };
    expect(() => planStdioSpawn('demo', missing, withoutBwrap)).toThrow(
      /^MCP server "demo": command "no-such-mcp-server" is not on the server's PATH/,
    );
  });

  it('describes what applies, naming variables but never their values', () => {
    const sandboxed = describeContainment(config('auto'), withBwrap).join('\n');
    expect(sandboxed).toContain('environment: API_TOKEN, HOME and a default PATH');
    expect(sandboxed).toContain('sandbox: bubblewrap (/usr/bin/bwrap), no network');
    expect(sandboxed).toContain('writable: /srv/agentd/mcp/demo, /data/out');
    expect(sandboxed).toContain('read-only: /data/in');
    expect(sandboxed).not.toContain('secret-value');
    const bare = describeContainment(config('auto'), withoutBwrap).join('\n');
    expect(bare).toContain('sandbox: none (bwrap is not installed (sandbox: auto))');
    expect(bare).toContain('limits: 60 s a call, 1,000,000 bytes a message from the server');
  });
});
