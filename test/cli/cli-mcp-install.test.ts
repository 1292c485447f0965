import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectContainmentHost } from '../../src/tools/mcp/stdio-containment.ts';
import { agentd, type CliResult } from '../support/cli.ts';
import { type LocalRegistry, startNpmRegistry, tinyMcpServer } from '../support/npm-registry.ts';
import { tempDir } from '../support/temp-dir.ts';

/**
 * `agentd mcp add` installing real packages with the real npm, from a registry on 127.0.0.1
 * that the test makes: no network. A package's install script, if agentd let npm run it,
 * would write a marker file outside every folder agentd owns.
 */
const markers = mkdtempSync(join(tmpdir(), 'agentd-install-markers-'));
const marker = join(markers, 'postinstall-ran');
const bwrap = detectContainmentHost().bwrapPath;

let registry: LocalRegistry;
beforeAll(async () => {
  registry = await startNpmRegistry([
    {
      manifest: { name: 'tiny-mcp', version: '1.0.0', bin: { 'tiny-mcp': 'server.js' } },
      files: { 'server.js': tinyMcpServer },
    },
    {
      manifest: {
        name: '@acme/scoped-mcp',
        version: '2.1.0',
        bin: { 'scoped-mcp': 'server.js' },
      },
      files: { 'server.js': tinyMcpServer },
    },
    {
      manifest: {
        name: 'evil-mcp',
        version: '1.0.0',
        bin: { 'evil-mcp': 'server.js' },
        scripts: { postinstall: `touch ${marker}` },
      },
      files: { 'server.js': tinyMcpServer },
    },
    {
      manifest: { name: 'evil-dep', version: '0.1.0', scripts: { install: `touch ${marker}` } },
      files: { 'index.js': '' },
    },
    {
      manifest: {
        name: 'wrapper-mcp',
        version: '1.0.0',
        bin: { 'wrapper-mcp': 'server.js' },
        dependencies: { 'evil-dep': '^0.1.0' },
      },
      files: { 'server.js': tinyMcpServer },
    },
    { manifest: { name: 'no-bin', version: '1.0.0' }, files: { 'index.js': '' } },
  ]);
}, 60_000);
afterAll(async () => {
  await registry?.close();
  rmSync(markers, { recursive: true, force: true });
});

function add(args: string[], home: string, cwd?: string): Promise<CliResult> {
  return agentd(['mcp', 'add', ...args], {
    home,
    env: { npm_config_registry: registry.url },
    ...(cwd ? { cwd } : {}),
  });
}

/** stderr without the progress line `installing … into …`: what the user is told went wrong. */
function complaint(result: CliResult): string[] {
  return result.stderr
    .trim()
    .split('\n')
    .filter((line) => line && !line.startsWith('installing '));
}

describe('agentd mcp add installs npm packages without running their code', () => {
  it('installs into the server folder with scripts off, starts the server contained and lists its tools', async () => {
    const home = tempDir();
    const result = await add(['tiny', '--npm', 'tiny-mcp@^1.0.0', '--', '--verbose'], home);
    expect(result.code, result.stderr).toBe(0);
    const dir = join(home, 'servers', 'tiny', 'package');
    expect(result.stderr).toContain(
      `installing tiny-mcp@^1.0.0 into ${dir}, install scripts off, ${bwrap ? 'in a bubblewrap sandbox (network on, only that folder writable)' : 'without a sandbox'}`,
    );
    expect(result.stdout).toBe(
      `registered tiny (stdio: ${dir}/node_modules/.bin/tiny-mcp --verbose)\n1 tool: echo\n`,
    );
    // npm's cache and temp folder went with the install; only the package is kept
    expect(readdirSync(dir).sort()).toEqual(['node_modules']);
    const show = JSON.parse((await agentd(['mcp', 'show', 'tiny', '--json'], { home })).stdout);
    expect(show.source).toEqual({ kind: 'npm', package: 'tiny-mcp', version: '^1.0.0' });
  });

  it('takes a scoped package from a server.json, with its arguments', async () => {
    const home = tempDir();
    const file = join(home, 'server.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'io.github.acme/scoped',
        description: 'Scoped',
        version: '2.1.0',
        packages: [
          {
            registryType: 'npm',
            registryBaseUrl: 'https://registry.npmjs.org',
            identifier: '@acme/scoped-mcp',
            version: '2.1.0',
            transport: { type: 'stdio' },
            packageArguments: [{ type: 'named', name: '--mode', default: 'safe' }],
          },
        ],
      }),
    );
    const result = await add(['--from', file], home);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      `registered scoped (stdio: ${join(home, 'servers/scoped/package/node_modules/.bin/scoped-mcp')} --mode safe)\n1 tool: echo\n`,
    );
  });

  it('refuses a package with an install script in one line: nothing registered, kept or run', async () => {
    const home = tempDir();
    const result = await add(['evil', '--npm', 'evil-mcp'], home);
    expect(result.code).toBe(2);
    expect(complaint(result)).toEqual([
      `agentd: evil-mcp@1.0.0 has an install script (postinstall: "touch ${marker}"), which agentd never runs: evil-mcp is not registered and nothing of it is kept; if you trust it, install it yourself and register its command: agentd mcp add evil -- <command>`,
    ]);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(home, 'servers', 'evil'))).toBe(false);
    expect((await agentd(['mcp', 'list', '--json'], { home })).stdout).toBe('');
  });

  it('refuses a package whose dependency has an install script, naming it', async () => {
    const home = tempDir();
    const result = await add(['wrapper', '--npm', 'wrapper-mcp@1.0.0'], home);
    expect(result.code).toBe(2);
    expect(complaint(result)).toEqual([
      `agentd: wrapper-mcp depends on evil-dep@0.1.0, which has an install script (install: "touch ${marker}"), which agentd never runs: wrapper-mcp@1.0.0 is not registered and nothing of it is kept; if you trust it, install it yourself and register its command: agentd mcp add wrapper -- <command>`,
    ]);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(home, 'servers', 'wrapper'))).toBe(false);
  });

  it('says in one line when npm cannot install, or the package has no executable (exit 1, exit 2)', async () => {
    const home = tempDir();
    const missing = await add(['gone', '--npm', 'not-published'], home);
    expect(missing.code).toBe(1);
    expect(complaint(missing)).toEqual([
      expect.stringMatching(
        /^agentd: npm could not install not-published: 404 Not Found - GET http:\/\/127\.0\.0\.1:\d+\/not-published/,
      ),
    ]);
    const noBin = await add(['nobin', '--npm', 'no-bin'], home);
    expect(noBin.code).toBe(2);
    expect(complaint(noBin)).toEqual([
      'agentd: no-bin has no executable (no usable "bin" in its package.json): it is not an MCP server agentd can start',
    ]);
    expect(readdirSync(join(home, 'servers'))).toEqual([]);
  });

  it('without a sandbox (--sandbox none) installs the same way, and says so', async () => {
    const home = tempDir();
    const result = await add(
      ['plain', '--npm', 'tiny-mcp', '--sandbox', 'none', '--no-list'],
      home,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('install scripts off, without a sandbox');
    expect(existsSync(join(home, 'servers/plain/package/node_modules/.bin/tiny-mcp'))).toBe(true);
  });

  it('--no-install keeps npx for each start, with scripts off and the package after --', async () => {
    const home = tempDir();
    const result = await add(
      ['later', '--npm', 'tiny-mcp@1.0.0', '--no-install', '--no-list'],
      home,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      'registered later (stdio: npx -y --ignore-scripts -- tiny-mcp@1.0.0)\n',
    );
    expect(registry.requests.filter((path) => path.includes('later'))).toEqual([]);
  });

  describe('refuses identifiers that are not package names: one line, exit 2, nothing started or created', () => {
    const hostile = (dir: string) => [
      `--prefix=${join(dir, 'prefixed')}`,
      '-g',
      '../x',
      '/abs/x.tgz',
      'git+https://example.com/evil/evil-mcp.git',
      'a b',
      '$(touch m)',
      '`touch m`',
      'evil-mcp@file:../x',
      'github:evil/evil-mcp',
    ];

    it('from --npm', async () => {
      const home = tempDir();
      const cwd = tempDir();
      const before = registry.requests.length;
      for (const identifier of hostile(cwd)) {
        const result = await add(['x', `--npm=${identifier}`], home, cwd);
        expect(result.code, identifier).toBe(2);
        expect(result.stdout).toBe('');
        expect(result.stderr.trim().split('\n'), identifier).toEqual([
          expect.stringMatching(
            /^agentd: --npm: ".*" is not an npm package name with an optional @version \(.+\); to run anything else, install it yourself and register the command: agentd mcp add <name> -- <command>$/,
          ),
        ]);
      }
      expect(registry.requests.length).toBe(before);
      expect(readdirSync(cwd)).toEqual([]);
      expect(existsSync(home) ? readdirSync(home) : []).toEqual([]);
    });

    it('from a server.json identifier or version', async () => {
      const home = tempDir();
      const cwd = tempDir();
      const before = registry.requests.length;
      const file = join(home, 'server.json');
      const doc = (identifier: string, version?: string) =>
        JSON.stringify({
          name: 'io.example/evil',
          description: 'x',
          version: '1.0.0',
          packages: [
            {
              registryType: 'npm',
              identifier,
              ...(version === undefined ? {} : { version }),
              transport: { type: 'stdio' },
            },
          ],
        });
      const cases = [
        ...hostile(cwd).map((identifier) => ({
          identifier,
          version: undefined,
          field: 'identifier',
        })),
        { identifier: 'tiny-mcp', version: '--prefix=/tmp/x', field: 'version' },
        { identifier: 'tiny-mcp', version: 'file:../x', field: 'version' },
        { identifier: 'tiny-mcp@1.0.0', version: undefined, field: 'identifier' },
      ];
      for (const { identifier, version, field } of cases) {
        writeFileSync(file, doc(identifier, version));
        const result = await add(['--from', file], home, cwd);
        expect(result.code, identifier).toBe(2);
        expect(result.stderr.trim().split('\n'), `${identifier} ${version}`).toEqual([
          expect.stringMatching(
            new RegExp(
              `^agentd: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: packages\\[0\\]\\.${field}: ".*" is not an npm package name`,
            ),
          ),
        ]);
      }
      expect(registry.requests.length).toBe(before);
      expect(readdirSync(cwd)).toEqual([]);
      expect(readdirSync(home)).toEqual(['server.json']);
    });
  });
});
