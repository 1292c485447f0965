import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const token = 'ghp_cliSecretValue0123456789abcdef';
/** The filesystem server from npm, installed with the project: it runs without fetching anything. */
const serverFilesystem = join(
  repoRoot,
  'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js',
);

const list0 = (result: { stdout: string }) => result.stdout;

describe('agentd mcp', () => {
  it('adds, shows, configures, disables and removes servers without ever printing a secret', async () => {
    const home = tempDir();
    const env = { GITHUB_TOKEN: token };
    const add = await agentd(
      [
        'mcp',
        'add',
        'gh',
        '--no-list',
        '--url',
        'https://mcp.example.com/mcp',
        '--secret',
        'GITHUB_TOKEN',
      ],
      { home, env },
    );
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toBe('registered gh (http: https://mcp.example.com/mcp)\n');
    const stdio = await agentd(
      [
        'mcp',
        'add',
        'files',
        '--root',
        '/tmp',
        '--call-timeout',
        '30s',
        '--',
        process.execPath,
        serverFilesystem,
        '/tmp',
      ],
      { home },
    );
    expect(stdio.code, stdio.stderr).toBe(0);
    // it started the real server (contained) and listed its tools, which search then finds
    expect(stdio.stdout).toMatch(
      /^registered files \(stdio: .*server-filesystem.* \/tmp\)\n\d+ tools: .*read_text_file/,
    );
    const search = await agentd(['mcp', 'search', 'read a file'], { home });
    expect(search.stdout).toMatch(/files\.read_/);
    expect(list0(await agentd(['mcp', 'list'], { home }))).toMatch(/fs +built-in/);

    const list = await agentd(['mcp', 'list'], { home });
    expect(list.stdout).toMatch(
      /files +enabled +\d+ +sandbox if bwrap, no network, 30 s a call +stdio: .*node/,
    );
    const show = await agentd(['mcp', 'show', 'gh'], { home });
    expect(show.stdout).toContain('secrets:      GITHUB_TOKEN=•••••• (stored encrypted)');

    const configure = await agentd(
      ['mcp', 'configure', 'files', '--env', 'LOG=debug', '--network', '--sandbox', 'none'],
      { home },
    );
    expect(configure.code, configure.stderr).toBe(0);
    const json = await agentd(['mcp', 'show', 'files', '--json'], { home });
    expect(JSON.parse(json.stdout)).toMatchObject({
      env: { LOG: 'debug' },
      roots: ['/tmp'],
      containment: { sandbox: 'none', network: true, callTimeoutMs: 30_000 },
    });
    expect((await agentd(['mcp', 'disable', 'gh'], { home })).stdout).toBe('gh disabled\n');

    for (const args of [
      ['mcp', 'list'],
      ['mcp', 'list', '--json'],
      ['mcp', 'show', 'gh'],
      ['mcp', 'show', 'gh', '--json'],
    ]) {
      const out = await agentd(args, { home, env });
      expect(out.stdout + out.stderr, args.join(' ')).not.toContain(token);
    }
    expect((await agentd(['mcp', 'remove', 'gh'], { home })).code).toBe(0);
    expect(
      (await agentd(['mcp', 'list', '--json'], { home })).stdout.trim().split('\n'),
    ).toHaveLength(1);
  });

  const oneLine = (result: { code: number | null; stderr: string }, pattern: RegExp) => {
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(pattern);
  };

  it('a malformed server.json, a missing secret, a bad name or source: one clear line', async () => {
    const home = tempDir();
    const file = join(home, 'server.json');
    writeFileSync(file, '{"name": "io.example/weather", "description": "x", "version": 1.0');
    oneLine(
      await agentd(['mcp', 'add', '--from', file], { home }),
      /server\.json:\d+:\d+: invalid YAML: /,
    );
    writeFileSync(
      file,
      JSON.stringify({
        name: 'io.example/weather',
        description: 'Weather',
        version: '1.0.0',
        packages: [
          {
            registryType: 'npm',
            identifier: 'weather-mcp',
            version: '1.0.0',
            transport: { type: 'stdio' },
            environmentVariables: [{ name: 'WEATHER_KEY', isSecret: true, isRequired: true }],
          },
        ],
      }),
    );
    oneLine(
      await agentd(['mcp', 'add', '--from', file], { home }),
      /needs the secret WEATHER_KEY: export WEATHER_KEY=\.\.\. and add --secret WEATHER_KEY$/,
    );
    const ok = await agentd(
      ['mcp', 'add', '--from', file, '--no-list', '--no-install', '--secret', 'WEATHER_KEY'],
      {
        home,
        env: { WEATHER_KEY: 'k-123456789' },
      },
    );
    expect(ok.stdout).toBe(
      'registered weather (stdio: npx -y --ignore-scripts -- weather-mcp@1.0.0)\n',
    );
    oneLine(
      await agentd(['mcp', 'add', 'Bad Name', '--no-list', '--url', 'https://x.example/mcp'], {
        home,
      }),
      /"Bad Name" cannot be a server name/,
    );
    oneLine(
      await agentd(['mcp', 'add', 'two', '--no-list', '--url', 'https://x.example', '--npm', 'x'], {
        home,
      }),
      /say how to run the server, one way/,
    );
    oneLine(
      await agentd(['mcp', 'add', 'u', '--no-list', '--url', 'ftp://x'], { home }),
      /--url: "ftp:\/\/x" is not an http\(s\) URL/,
    );
    oneLine(
      await agentd(['mcp', 'show', 'nope'], { home }),
      /no MCP server "nope" is registered: see agentd mcp list/,
    );
  });
});
