import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SecretBox } from '../../src/config/secret-box.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { Registry } from '../../src/tools/registry/registry.ts';
import { defaultContainment, type ServerEntry } from '../../src/tools/registry/server-entry.ts';
import { entryFromServerJson } from '../../src/tools/registry/server-json.ts';
import { tempDir } from '../support/temp-dir.ts';

const secret = 'ghp_0123456789abcdefSECRETvalue';

function entry(name: string, over: Partial<ServerEntry> = {}): ServerEntry {
  return {
    name,
    source: { kind: 'command' },
    transport: { type: 'stdio', command: 'node', args: ['server.js'] },
    env: { LOG_LEVEL: 'info' },
    headers: {},
    secrets: ['GITHUB_TOKEN'],
    secretHeaders: [],
    roots: [],
    containment: defaultContainment,
    enabled: true,
    ...over,
  };
}

function setup() {
  const dir = tempDir();
  const store = new SqliteStore({ path: join(dir, 'agentd.db') });
  const registry = new Registry(store, SecretBox.forHome(dir, {}));
  return { dir, store, registry };
}

describe('registry', () => {
  it('round-trips add, configure, enable/disable and remove; secrets stay sealed', async () => {
    const { dir, store, registry } = setup();
    await registry.add(entry('github'), { GITHUB_TOKEN: secret });
    expect(await registry.get('github')).toEqual(entry('github'));
    expect(await registry.secretsOf('github')).toEqual({ GITHUB_TOKEN: secret });

    await registry.update(
      'github',
      (e) => ({ ...e, env: { ...e.env, LOG_LEVEL: 'debug' }, enabled: false }),
      {
        EXTRA: 'another-secret-value',
      },
    );
    const changed = await registry.get('github');
    expect(changed.env).toEqual({ LOG_LEVEL: 'debug' });
    expect(changed.enabled).toBe(false);
    expect(changed.secrets.sort()).toEqual(['EXTRA', 'GITHUB_TOKEN']);
    await registry.update('github', (e) => e, { EXTRA: undefined });
    expect((await registry.get('github')).secrets).toEqual(['GITHUB_TOKEN']);

    // nothing in the database file holds a secret in the clear
    await store.close();
    const bytes = readFileSync(join(dir, 'agentd.db')).toString('latin1');
    const wal = readFileSync(join(dir, 'agentd.db-wal'), { flag: 'a+' }).toString('latin1');
    expect(bytes + wal).not.toContain(secret);
    expect(bytes + wal).not.toContain('another-secret-value');

    const reopened = new Registry(
      new SqliteStore({ path: join(dir, 'agentd.db') }),
      SecretBox.forHome(dir, {}),
    );
    expect(await reopened.secretsOf('github')).toEqual({ GITHUB_TOKEN: secret });
    await reopened.remove('github');
    await expect(reopened.get('github')).rejects.toThrow(/no MCP server "github" is registered/);
    await expect(reopened.remove('github')).rejects.toThrow(/no MCP server "github"/);
  });

  it('refuses a second server with the same name', async () => {
    const { registry } = setup();
    await registry.add(entry('a'), {});
    await expect(registry.add(entry('a'), {})).rejects.toThrow(
      /a server named "a" is already registered/,
    );
  });

  it('cannot open secrets with another key', async () => {
    const { store, registry } = setup();
    await registry.add(entry('a'), { GITHUB_TOKEN: secret });
    const other = new Registry(store, new SecretBox(Buffer.alloc(32, 7)));
    await expect(other.secretsOf('a')).rejects.toThrow(/cannot be decrypted with this secret key/);
  });

  it('searches tool names and descriptions, best first, enabled servers only, and forgets removed ones', async () => {
    const { registry } = setup();
    await registry.add(entry('files'), {});
    await registry.add(entry('web'), {});
    await registry.add(entry('off', { enabled: false }), {});
    const tool = (name: string, description: string) => ({
      name,
      description,
      inputSchema: { type: 'object' },
    });
    await registry.setTools('files', [
      tool('read_text_file', 'Read the complete contents of a file as text.'),
      tool('list_directory', 'List the entries of a directory.'),
      tool('move_file', 'Move or rename files and directories.'),
    ]);
    await registry.setTools('web', [
      tool('fetch', 'Fetch a URL and return its text; can read web pages.'),
    ]);
    await registry.setTools('off', [tool('readFile', 'Read a file.')]);

    const found = await registry.search('read file');
    expect(found.map((t) => `${t.server}.${t.name}`)).toEqual([
      'files.read_text_file',
      'files.move_file',
      'web.fetch',
    ]);
    expect(found[0]!.score).toBeGreaterThan(found[1]!.score);
    expect((await registry.search('directory'))[0]?.name).toBe('list_directory');
    expect(await registry.search('   ')).toEqual([]);
    expect(await registry.search('"qq" ^ (zz* NEAR')).toEqual([]); // FTS syntax is taken as words

    await registry.remove('files');
    expect((await registry.search('read file')).map((t) => t.name)).toEqual(['fetch']);
    expect(await registry.tools('files')).toEqual([]);
  });
});

describe('server.json', () => {
  const base = { containment: defaultContainment };

  it('takes the npm package over stdio, with its variables, secrets and arguments', () => {
    const imported = entryFromServerJson(
      'weather.json',
      JSON.stringify({
        name: 'io.github.someone/weather-server',
        description: 'Weather forecasts',
        version: '1.2.0',
        packages: [
          { registryType: 'pypi', identifier: 'weather', transport: { type: 'stdio' } },
          {
            registryType: 'npm',
            identifier: '@someone/weather-mcp',
            version: '1.2.0',
            transport: { type: 'stdio' },
            packageArguments: [
              { type: 'named', name: '--units', default: 'metric' },
              { type: 'positional', valueHint: 'data_dir' },
            ],
            environmentVariables: [
              { name: 'WEATHER_API_KEY', isSecret: true, isRequired: true, description: 'API key' },
              { name: 'WEATHER_REGION', default: 'eu' },
              { name: 'WEATHER_ACCOUNT', isRequired: true },
            ],
          },
        ],
      }),
      { ...base, args: { data_dir: '/srv/weather' } },
    );
    expect(imported.entry).toMatchObject({
      name: 'weather-server',
      version: '1.2.0',
      source: { kind: 'server.json', name: 'io.github.someone/weather-server' },
      transport: {
        type: 'stdio',
        command: 'npx',
        args: [
          '-y',
          '--ignore-scripts',
          '--',
          '@someone/weather-mcp@1.2.0',
          '--units',
          'metric',
          '/srv/weather',
        ],
      },
      env: { WEATHER_REGION: 'eu' },
    });
    expect(imported.secrets).toEqual([
      { name: 'WEATHER_API_KEY', description: 'API key', required: true },
    ]);
    expect(imported.missingEnv).toEqual([{ name: 'WEATHER_ACCOUNT' }]);
  });

  it('takes a streamable-http remote when there is no npm package', () => {
    const imported = entryFromServerJson(
      'remote.json',
      JSON.stringify({
        name: 'com.example/tickets',
        description: 'Tickets',
        version: '2.0.0',
        remotes: [
          { type: 'sse', url: 'https://example.com/sse' },
          {
            type: 'streamable-http',
            url: 'https://example.com/mcp',
            headers: [
              { name: 'Authorization', isSecret: true, isRequired: true },
              { name: 'X-Team', value: 'core' },
            ],
          },
        ],
      }),
      base,
    );
    expect(imported.entry.transport).toEqual({ type: 'http', url: 'https://example.com/mcp' });
    expect(imported.entry.headers).toEqual({ 'X-Team': 'core' });
    expect(imported.secrets.map((s) => s.name)).toEqual(['Authorization']);
  });

  it('says in one line what is wrong with a bad file', () => {
    const bad = (text: string) => () => entryFromServerJson('s.json', text, base);
    expect(bad('{"name": "io.x/y", "description": ')).toThrow(/^s\.json:1:\d+: invalid YAML: /);
    // an alias to no anchor, and an alias bomb: one line, not an internal error
    expect(bad('*!')).toThrow(/^s\.json: invalid YAML: Unresolved alias/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (const n of ['b', 'c', 'd', 'e', 'f', 'g'])
      bomb.push(
        `${n}: &${n} [${Array(9)
          .fill(`*${String.fromCharCode(n.charCodeAt(0) - 1)}`)
          .join(', ')}]`,
      );
    expect(bad(bomb.join('\n'))).toThrow(/^s\.json: invalid YAML: Excessive alias count/);
    expect(bad('{"description": "d", "version": "1"}')).toThrow(
      /^s\.json: name: is required \(expected string\)$/,
    );
    expect(bad('{"name": "noslash", "description": "d", "version": "1"}')).toThrow(
      /^s\.json: name: must be reverse-DNS with one slash/,
    );
    expect(
      bad(
        '{"name": "io.x/y", "description": "d", "version": "1", "packages": [{"registryType": "pypi", "identifier": "y", "transport": {"type": "stdio"}}]}',
      ),
    ).toThrow(
      /^s\.json: no npm package over stdio and no streamable-http remote, which is what agentd runs \(it offers: pypi\/stdio\)$/,
    );
    expect(
      bad(
        '{"name": "io.x/y", "description": "d", "version": "1", "packages": [{"registryType": "npm", "identifier": "y", "transport": {"type": "stdio"}, "packageArguments": [{"type": "positional", "valueHint": "path"}]}]}',
      ),
    ).toThrow(/needs a value: pass --arg path=<value>$/);
  });

  it('takes values from the entry as data only: never an option, a loader variable or a line break', () => {
    const doc = (pkg: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        name: 'io.x/y',
        description: 'd',
        version: '1',
        packages: [{ registryType: 'npm', identifier: 'y', transport: { type: 'stdio' }, ...pkg }],
        ...extra,
      });
    const refused =
      (text: string, args: Record<string, string> = {}) =>
      () =>
        entryFromServerJson('s.json', text, { ...base, args });
    expect(refused(doc({ runtimeArguments: [{ type: 'named', name: '--call' }] }))).toThrow(
      /^s\.json: packages\[0\]\.runtimeArguments: "--call": agentd runs the package itself, not through a runtime, and takes no runtime options from an entry; to pass them, register the command yourself: agentd mcp add <name> -- npx \.\.\.$/,
    );
    expect(
      refused(doc({ packageArguments: [{ type: 'positional', value: '--prefix=/tmp/x' }] })),
    ).toThrow(
      /^s\.json: packages\[0\]\.packageArguments\[0\]\.value: "--prefix=\/tmp\/x" would be an option, not a value: a registry entry gives values only \(pass your own with --arg\)$/,
    );
    expect(
      refused(doc({ packageArguments: [{ type: 'named', name: '--dir', default: '-rf' }] })),
    ).toThrow(/^s\.json: packages\[0\]\.packageArguments\[0\]\.default: "-rf" would be an option/);
    expect(
      refused(doc({ packageArguments: [{ type: 'named', name: '$(id)', value: 'x' }] })),
    ).toThrow(
      /^s\.json: packages\[0\]\.packageArguments\[0\]\.name: "\$\(id\)" is not an option name/,
    );
    expect(refused(doc({ packageArguments: [{ type: 'positional', value: 'a\u0000b' }] }))).toThrow(
      /packageArguments\[0\]\.value: "a\\u0000b" has a control character or line break$/,
    );
    // the user's own value may look like an option, but not hold a line break
    expect(
      entryFromServerJson(
        's.json',
        doc({ packageArguments: [{ type: 'positional', valueHint: 'n' }] }),
        { ...base, args: { n: '-5' } },
      ).entry.transport,
    ).toMatchObject({ args: ['-y', '--ignore-scripts', '--', 'y', '-5'] });
    expect(
      refused(doc({ packageArguments: [{ type: 'positional', valueHint: 'n' }] }), { n: 'a\nb' }),
    ).toThrow(/^--arg n: "a\\nb" has a control character or line break$/);
    for (const name of [
      'PATH',
      'NODE_OPTIONS',
      'LD_PRELOAD',
      'npm_config_registry',
      'NPM_CONFIG_PREFIX',
    ]) {
      expect(refused(doc({ environmentVariables: [{ name, value: 'x' }] })), name).toThrow(
        new RegExp(
          `^s\\.json: packages\\[0\\]\\.environmentVariables\\[0\\]\\.name: "${name}" changes which program starts or what it loads, which a registry entry may not set \\(set it yourself with --env if you mean it\\)$`,
        ),
      );
    }
    expect(refused(doc({ environmentVariables: [{ name: 'A=B', value: 'x' }] }))).toThrow(
      /environmentVariables\[0\]\.name: "A=B" is not an environment variable name/,
    );
    expect(
      refused(
        doc({
          environmentVariables: [
            { name: 'TOKEN', isSecret: true, value: 'x' },
            { name: 'A', value: 'x\u0000' },
          ],
        }),
      ),
    ).toThrow(/environmentVariables\[1\]\.value: "x\\u0000" has a NUL character$/);
    expect(refused(doc({ registryBaseUrl: 'https://evil.example/npm' }))).toThrow(
      /^s\.json: packages\[0\]\.registryBaseUrl: "https:\/\/evil\.example\/npm": agentd installs from your own npm registry \(npm config get registry\), never from one an entry names; /,
    );
  });

  it('takes a remote only at an http(s) URL without credentials, with well-formed headers', () => {
    const remote =
      (url: string, headers: unknown[] = []) =>
      () =>
        entryFromServerJson(
          'r.json',
          JSON.stringify({
            name: 'io.x/r',
            description: 'd',
            version: '1',
            remotes: [{ type: 'streamable-http', url, headers }],
          }),
          base,
        );
    for (const url of ['file:///etc/passwd', 'javascript:alert(1)', 'not a url', 'ftp://x/y']) {
      expect(remote(url), url).toThrow(
        /^r\.json: remotes\[0\]\.url: ".*" is not an http\(s\) URL$/,
      );
    }
    expect(remote('https://user:pw@example.com/mcp')).toThrow(
      /^r\.json: remotes\[0\]\.url: "https:\/\/user:pw@example\.com\/mcp" has credentials in it: give them as a header with --secret instead/,
    );
    expect(remote('https://example.com/mcp', [{ name: 'X Bad', value: 'v' }])).toThrow(
      /remotes\[0\]\.headers\[0\]\.name: "X Bad" is not an HTTP header name$/,
    );
    expect(
      remote('https://example.com/mcp', [{ name: 'X-A', value: 'v\r\nX-Injected: 1' }]),
    ).toThrow(
      /remotes\[0\]\.headers\[0\]\.value: ".*" has a line break or NUL, which no header can hold$/,
    );
  });
});
