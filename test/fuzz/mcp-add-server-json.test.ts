import type { ChildProcess } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { detectContainmentHost } from '../../src/tools/mcp/stdio-containment.ts';
import { parseNpmSpec } from '../../src/tools/registry/npm-package-spec.ts';
import { type LocalRegistry, startNpmRegistry, tinyMcpServer } from '../support/npm-registry.ts';

/**
 * `agentd mcp add --from` over generated server.json documents, hostile and plausible, with
 * the real npm against a registry on 127.0.0.1. Properties: the only process that starts is
 * npm installing the entry's own package, by a name that passes the checks; no file appears
 * outside the server's folder (and agentd's store); every refusal is one line; nothing ends
 * in an internal error. A bounded budget runs with the suite (AGENTD_FUZZ_RUNS for more,
 * AGENTD_FUZZ_SEED to replay a failure fast-check reported).
 */
const runs = Number(process.env.AGENTD_FUZZ_RUNS ?? 30);
// A fixed seed by default, so the suite gives the same answer every time; AGENTD_FUZZ_SEED picks
// another (any number) to explore further.
const seed = process.env.AGENTD_FUZZ_SEED ? Number(process.env.AGENTD_FUZZ_SEED) : 20261207;
const bwrap = detectContainmentHost().bwrapPath;

const world = mkdtempSync(join(tmpdir(), 'agentd-fuzz-mcp-add-'));
const marker = join(world, 'install-script-ran');
const cwd = join(world, 'cwd');

let registry: LocalRegistry;
const savedEnv = { ...process.env };
const savedCwd = process.cwd();
const spawned: ChildProcess[] = [];
const onSpawn = (message: unknown) => spawned.push((message as { process: ChildProcess }).process);

beforeAll(async () => {
  registry = await startNpmRegistry([
    {
      manifest: { name: 'tiny-mcp', version: '1.0.0', bin: { 'tiny-mcp': 'server.js' } },
      files: { 'server.js': tinyMcpServer },
    },
    {
      manifest: { name: '@acme/scoped-mcp', version: '2.1.0', bin: 'server.js' },
      files: { 'server.js': tinyMcpServer },
    },
    {
      manifest: {
        name: 'evil-mcp',
        version: '1.0.0',
        bin: { 'evil-mcp': 'server.js' },
        scripts: { preinstall: `touch ${marker}`, postinstall: `touch ${marker}` },
      },
      files: { 'server.js': tinyMcpServer },
    },
  ]);
  mkdirSync(cwd);
  process.chdir(cwd); // anything written relative to the working folder lands in the world
  process.env.npm_config_registry = registry.url;
  dc.subscribe('child_process', onSpawn);
}, 60_000);

afterAll(async () => {
  dc.unsubscribe('child_process', onSpawn);
  process.chdir(savedCwd);
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
  await registry?.close();
  rmSync(world, { recursive: true, force: true });
});

// ---- generators -------------------------------------------------------------------------

const hostileText = fc.constantFrom(
  `--prefix=${join(world, 'prefixed')}`,
  '-g',
  '--registry=http://127.0.0.1:1/',
  '../x',
  '/abs/x.tgz',
  'x.tgz',
  'git+https://example.com/evil.git',
  'github:evil/evil',
  'evil-mcp@file:../x',
  'tiny-mcp@npm:evil-mcp',
  'http://127.0.0.1:1/evil.tgz',
  'a b',
  `$(touch ${marker})`,
  `\`touch ${marker}\``,
  `; touch ${marker}`,
  '',
  '-',
  '--',
  '@',
  'a\u0000b',
  'a\nb',
  '\u001b[31mred',
  'PATH',
  'NODE_OPTIONS',
  'npm_config_ignore_scripts',
  'LD_PRELOAD',
);
/** Mostly what a real entry holds, sometimes hostile, sometimes anything. */
const text = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('value', 'metric', '/srv/data', '8080', 'API_KEY') },
  { weight: 2, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

const identifier = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('tiny-mcp', '@acme/scoped-mcp', 'evil-mcp') },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/) }, // mostly not published
  { weight: 3, arbitrary: text },
);
const version = maybe(
  fc.oneof(
    fc.constantFrom('1.0.0', '^1.0.0', '~2.1', '2.1.0', 'latest', '*', '1.x'),
    fc.constantFrom('>=1 <2', '--tag', 'file:../x', '9.9.9'),
    text,
  ),
);
const argument = fc.record({
  type: fc.constantFrom('positional', 'named', 'weird'),
  name: maybe(fc.oneof(fc.constantFrom('--mode', '-v', '--port'), text)),
  valueHint: maybe(text),
  value: maybe(text),
  default: maybe(text),
  isRequired: maybe(fc.boolean()),
});
const variable = fc.record({
  name: fc.oneof(fc.constantFrom('API_URL', 'LOG_LEVEL'), text),
  value: maybe(text),
  default: maybe(text),
  isSecret: maybe(fc.boolean()),
  isRequired: maybe(fc.boolean()),
});
const npmPackage = fc.record({
  registryType: fc.oneof(
    { weight: 5, arbitrary: fc.constant('npm') },
    fc.constantFrom('pypi', 'oci'),
  ),
  registryBaseUrl: maybe(fc.constantFrom('https://registry.npmjs.org', 'https://evil.example/')),
  identifier,
  version,
  transport: fc.record({
    type: fc.oneof({ weight: 5, arbitrary: fc.constant('stdio') }, fc.constant('streamable-http')),
  }),
  runtimeArguments: fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    fc.array(argument, { maxLength: 2 }),
  ),
  packageArguments: maybe(fc.array(argument, { maxLength: 3 })),
  environmentVariables: maybe(fc.array(variable, { maxLength: 3 })),
});
const remote = fc.record({
  type: fc.constantFrom('streamable-http', 'sse'),
  url: fc.oneof(
    fc.constantFrom('https://mcp.example.com/mcp', 'file:///etc/passwd', 'https://u:p@x.example/'),
    text,
  ),
  headers: maybe(
    fc.array(fc.record({ name: text, value: maybe(text), isSecret: maybe(fc.boolean()) }), {
      maxLength: 2,
    }),
  ),
});
const serverJson = fc.record({
  name: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('io.example/fuzz', 'io.example/tiny') },
    text,
  ),
  description: fc.oneof({ weight: 4, arbitrary: fc.constant('A server') }, text),
  version: fc.oneof({ weight: 4, arbitrary: fc.constant('1.0.0') }, text),
  packages: maybe(fc.array(npmPackage, { minLength: 1, maxLength: 2 })),
  remotes: maybe(fc.array(remote, { maxLength: 2 })),
});
/**
 * A plausible document: what real entries hold (an npm package of the local registry, or a
 * remote), with its arguments and variables.
 */
const plausible = fc.record({
  name: fc.constantFrom('io.example/fuzz', 'io.github.acme/tiny'),
  description: fc.constant('A server'),
  version: fc.constant('1.0.0'),
  packages: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.array(
        fc.record({
          registryType: fc.constant('npm'),
          identifier: fc.constantFrom('tiny-mcp', '@acme/scoped-mcp', 'evil-mcp', 'not-published'),
          version: maybe(fc.constantFrom('1.0.0', '^1.0.0', '2.1.0', 'latest', '*', '1.x')),
          transport: fc.constant({ type: 'stdio' }),
          packageArguments: maybe(
            fc.array(
              fc.oneof(
                fc.record({
                  type: fc.constant('named'),
                  name: fc.constantFrom('--mode', '-v'),
                  default: fc.constantFrom('safe', '1'),
                }),
                fc.record({
                  type: fc.constant('positional'),
                  valueHint: fc.constantFrom('path', 'value'),
                  isRequired: fc.boolean(),
                }),
              ),
              { maxLength: 2 },
            ),
          ),
          environmentVariables: maybe(
            fc.array(
              fc.record({
                name: fc.constantFrom('LOG_LEVEL', 'API_URL'),
                default: fc.constantFrom('info', 'https://x.example'),
              }),
              { maxLength: 2 },
            ),
          ),
        }),
        { minLength: 1, maxLength: 1 },
      ),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
  ),
  remotes: maybe(fc.constant([{ type: 'streamable-http', url: 'https://mcp.example.com/mcp' }])),
});

/** Where a mutation puts a hostile value into a plausible document. */
const mutationPath = fc.constantFrom(
  ['name'],
  ['packages', 0, 'identifier'],
  ['packages', 0, 'version'],
  ['packages', 0, 'registryBaseUrl'],
  ['packages', 0, 'runtimeArguments', 0, 'value'],
  ['packages', 0, 'runtimeArguments', 0, 'name'],
  ['packages', 0, 'packageArguments', 0, 'value'],
  ['packages', 0, 'packageArguments', 0, 'default'],
  ['packages', 0, 'packageArguments', 0, 'name'],
  ['packages', 0, 'packageArguments', 1, 'type'],
  ['packages', 0, 'environmentVariables', 0, 'name'],
  ['packages', 0, 'environmentVariables', 0, 'value'],
  ['packages', 0, 'transport', 'type'],
  ['remotes', 0, 'url'],
  ['remotes', 0, 'headers', 0, 'name'],
  ['remotes', 0, 'headers', 0, 'value'],
);
const mutation = fc.tuple(
  mutationPath,
  fc.oneof(
    { weight: 4, arbitrary: hostileText },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
  ),
);

function mutate(
  doc: Record<string, unknown>,
  mutations: readonly (readonly [readonly (string | number)[], unknown])[],
): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  for (const [path, value] of mutations) {
    let at = copy;
    for (const [i, key] of path.slice(0, -1).entries()) {
      at[key] ??= typeof path[i + 1] === 'number' ? [] : {};
      at = at[key] as Record<string | number, unknown>;
      if (at === null || typeof at !== 'object') break;
    }
    if (at !== null && typeof at === 'object') at[path.at(-1)!] = value;
  }
  return copy;
}

/**
 * A document's text: mostly a plausible server.json, as is or with a few hostile values put
 * in; otherwise a server.json generated field by field, any JSON, or any text.
 */
const documentText = fc.oneof(
  { weight: 4, arbitrary: plausible.map((doc) => JSON.stringify(doc)) },
  {
    weight: 5,
    arbitrary: fc
      .tuple(plausible, fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .map(([doc, mutations]) => JSON.stringify(mutate(doc, mutations))),
  },
  { weight: 2, arbitrary: serverJson.map((doc) => JSON.stringify(doc)) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
);
const options = fc.record({
  name: fc.oneof(
    { weight: 4, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: fc.constant('fuzz') },
    { weight: 1, arbitrary: fc.constantFrom('fs', 'Bad Name') },
  ),
  install: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)),
  sandbox: fc.constantFrom(
    ...(bwrap ? (['auto', 'none', 'bubblewrap'] as const) : (['auto', 'none'] as const)),
  ),
  args: fc.array(fc.tuple(fc.constantFrom('value', 'path', 'mode'), text), { maxLength: 2 }),
});

// ---- the property -----------------------------------------------------------------------

function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      out.push(relative(world, path));
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(root);
  return out;
}

/** The spec npm should be asked for: the entry's npm package over stdio, as written. */
function expectedSpec(text: string): string | undefined {
  try {
    const doc = JSON.parse(text) as {
      packages?: {
        registryType?: string;
        identifier?: string;
        version?: string;
        transport?: { type?: string };
      }[];
    };
    const pkg = doc.packages?.find(
      (p) => p.registryType === 'npm' && p.transport?.type === 'stdio',
    );
    return pkg && (pkg.version === undefined ? pkg.identifier : `${pkg.identifier}@${pkg.version}`);
  } catch {
    return undefined;
  }
}

let cases = 0;
let npmRuns = 0;
let installed = 0;
let refusedAfterInstall = 0;
/** Outcomes by kind, printed on a longer run (AGENTD_FUZZ_RUNS) to see what the budget reached. */
const tally: Record<string, number> = {};

async function check(
  doc: string,
  flags: {
    name: string | undefined;
    install: boolean;
    sandbox: string;
    args: [string, string][];
  },
): Promise<void> {
  const dir = join(world, `case-${++cases}`);
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const file = join(dir, 'server.json');
  writeFileSync(file, doc);
  process.env.AGENTD_HOME = home;
  const before = new Set(filesUnder(world));
  spawned.length = 0;
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  let code: number;
  try {
    code = await main([
      'mcp',
      'add',
      ...(flags.name ? [flags.name] : []),
      '--from',
      file,
      '--no-list',
      `--sandbox=${flags.sandbox}`,
      ...(flags.install ? [] : ['--no-install']),
      ...flags.args.map(([key, value]) => `--arg=${key}=${value}`),
    ]);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  const told0 = stderr.split('\n').find((line) => line.startsWith('agentd:'));
  const outcome = `exit ${code}${spawned.length ? ' after npm' : ''}: ${(
    told0 ??
    stdout.split(' (')[0] ??
    ''
  )
    .replace(/^agentd: \S*server\.json:(\d+:\d+:)? /, '')
    .replace(/"[^"]*"/g, '…')
    .slice(0, 60)}`;
  tally[outcome] = (tally[outcome] ?? 0) + 1;
  if (spawned.length) npmRuns++;
  if (spawned.length && code === 0) installed++;
  if (spawned.length && code === 2) refusedAfterInstall++;
  const context = `${doc}\nexit ${code}\nstdout: ${stdout}\nstderr: ${stderr}`;

  // an outcome, never an internal error; a refusal is one line
  expect([0, 1, 2], context).toContain(code);
  const told = stderr.split('\n').filter((line) => line && !line.startsWith('installing '));
  if (code === 0) {
    expect(told, context).toEqual([]);
    const runsAs = /^registered ([a-z0-9_-]+) \((stdio|http): (.*)\)\n$/.exec(stdout);
    expect(runsAs, context).not.toBeNull();
    const [, name = '', transport, how = ''] = runsAs ?? [];
    if (transport === 'http') expect(how, context).toMatch(/^https?:\/\//);
    else if (flags.install)
      expect(how, context).toMatch(
        new RegExp(
          `^${join(home, 'servers', name, 'package', 'node_modules', '.bin')}/[^/ ]+( |$)`,
        ),
      );
    else
      expect(how.startsWith(`npx -y --ignore-scripts -- ${expectedSpec(doc)}`), context).toBe(true);
  } else {
    expect(told, context).toHaveLength(1);
    expect(told[0], context).toMatch(/^agentd: \S/);
  }

  // the only process: npm installing the entry's own package, by a name that passes the checks
  const spec = expectedSpec(doc);
  for (const child of spawned) {
    const argv = child.spawnargs;
    const dashes = argv.lastIndexOf('--');
    expect(dashes, context).toBe(argv.length - 2);
    expect(argv.slice(0, dashes), context).toContain('install');
    expect(argv.slice(0, dashes), context).toContain('--ignore-scripts');
    expect(() => parseNpmSpec(argv[dashes + 1]!, 'spawned'), context).not.toThrow();
    expect(argv[dashes + 1], context).toBe(spec);
  }
  expect(spawned.length, context).toBeLessThanOrEqual(flags.install ? 1 : 0);

  // nothing outside the server's folder and agentd's store; nothing at all after a refusal
  const registered = /^registered ([a-z0-9_-]+) /.exec(stdout)?.[1];
  const allowed = (path: string) => {
    const inHome = relative(home, join(world, path));
    if (inHome.startsWith('..')) return path === relative(world, file);
    if (/^(agentd\.db(-wal|-shm)?|secret\.key|servers)$/.test(inHome)) return true;
    return (
      registered !== undefined && `${inHome}${sep}`.startsWith(`servers${sep}${registered}${sep}`)
    );
  };
  const appeared = filesUnder(world).filter((path) => !before.has(path));
  expect(
    appeared.filter((path) => !allowed(path)),
    context,
  ).toEqual([]);
  expect(existsSync(marker), context).toBe(false);
  rmSync(dir, { recursive: true, force: true });
}

const plainFlags = { name: undefined, install: true, args: [] };
function examplePackage(identifier: string, version: string): string {
  return JSON.stringify({
    name: 'io.example/example',
    description: 'An example',
    version: '1.0.0',
    packages: [{ registryType: 'npm', identifier, version, transport: { type: 'stdio' } }],
  });
}

describe('fuzz: agentd mcp add --from <generated server.json>', () => {
  it(
    `starts only npm for a checked package, writes only the server's folder, refuses in one line (${runs} documents)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(documentText, options, (doc, flags) => check(doc, flags)),
        {
          numRuns: runs,
          ...(seed === undefined ? {} : { seed }),
          // always: one package that installs and registers, one whose install script is refused
          examples: [
            [examplePackage('tiny-mcp', '^1.0.0'), { ...plainFlags, sandbox: 'auto' }],
            [examplePackage('evil-mcp', '1.0.0'), { ...plainFlags, sandbox: 'auto' }],
          ],
        },
      );
      if (process.env.AGENTD_FUZZ_RUNS) console.log(tally);
      // the budget reached npm, both ways: the properties above held where it matters most
      expect(npmRuns).toBeGreaterThanOrEqual(2);
      expect(installed).toBeGreaterThanOrEqual(1);
      expect(refusedAfterInstall).toBeGreaterThanOrEqual(1);
    },
    Math.max(60_000, runs * 10_000),
  );
});
