import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ContainmentHost } from '../../src/tools/mcp/stdio-containment.ts';
import { installScripts, planNpmInstall } from '../../src/tools/registry/npm-install.ts';
import { tempDir } from '../support/temp-dir.ts';

const host = (bwrapPath?: string): ContainmentHost => ({
  bwrapPath,
  envPath: '/usr/bin/env',
  nodeDir: '/opt/node/bin',
  isRoot: false,
});

describe('npm install plan', () => {
  const options = (dir: string, over: Partial<Parameters<typeof planNpmInstall>[0]> = {}) => ({
    server: 'tiny',
    dir,
    spec: { name: '@acme/tiny', version: '^1' },
    sandbox: 'auto' as const,
    env: { PATH: process.env.PATH ?? '', HOME: '/home/someone', AGENTD_SECRET_KEY: 'k', X: '1' },
    ...over,
  });

  it('in bubblewrap: network on, only the package folder writable, scripts off, the spec after --', () => {
    const dir = tempDir();
    const plan = planNpmInstall(options(dir, { host: host('/usr/bin/bwrap') }));
    expect(plan.sandboxed).toBe(true);
    expect(plan.command).toBe('/usr/bin/bwrap');
    const args = plan.args;
    expect(args).toContain('--share-net');
    const writable = args.flatMap((arg, i) => (arg === '--bind' ? [args[i + 1]] : []));
    expect(writable).toEqual([dir]);
    const inner = args.slice(args.indexOf('--') + 1);
    expect(inner.slice(inner.indexOf('install'))).toEqual([
      'install',
      '--prefix',
      dir,
      '--cache',
      join(dir, '.npm-cache'),
      '--ignore-scripts',
      '--allow-git=none',
      '--allow-remote=none',
      '--allow-file=none',
      '--allow-directory=none',
      '--no-global',
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--no-update-notifier',
      '--loglevel=error',
      '--',
      '@acme/tiny@^1',
    ]);
    // npm gets the user's environment without agentd's own variables, and a temp folder of its own
    expect(plan.env).toMatchObject({ HOME: '/home/someone', X: '1', TMPDIR: join(dir, '.tmp') });
    expect(plan.env).not.toHaveProperty('AGENTD_SECRET_KEY');
  });

  it('without bwrap (auto) or with sandbox none: not sandboxed; bubblewrap required and missing: one line', () => {
    const dir = tempDir();
    expect(planNpmInstall(options(dir, { host: host() })).sandboxed).toBe(false);
    const none = planNpmInstall(options(dir, { host: host('/usr/bin/bwrap'), sandbox: 'none' }));
    expect(none.sandboxed).toBe(false);
    expect(none.command).toBe('/usr/bin/env');
    expect(() => planNpmInstall(options(dir, { host: host(), sandbox: 'bubblewrap' }))).toThrow(
      /^cannot install @acme\/tiny@\^1 for tiny: containment asks for bubblewrap but bwrap is not installed: install it \(apt-get install bubblewrap\) or set sandbox to auto or none$/,
    );
  });
});

describe('install scripts in an installed tree', () => {
  it('finds every package that declares one, scoped and nested too, and binding.gyp builds', () => {
    const modules = join(tempDir(), 'node_modules');
    const pkg = (path: string, manifest: Record<string, unknown>, files: string[] = []) => {
      mkdirSync(join(modules, path), { recursive: true });
      writeFileSync(join(modules, path, 'package.json'), JSON.stringify(manifest));
      for (const file of files) writeFileSync(join(modules, path, file), '');
    };
    pkg('clean', { name: 'clean', version: '1.0.0', scripts: { test: 'x', prepare: 'y' } });
    pkg('@acme/pre', { name: '@acme/pre', version: '2.0.0', scripts: { preinstall: 'a' } });
    pkg('clean/node_modules/deep', {
      name: 'deep',
      version: '0.1.0',
      scripts: { postinstall: 'b' },
    });
    pkg('native', { name: 'native', version: '3.0.0' }, ['binding.gyp']);
    mkdirSync(join(modules, '.bin'));
    expect(installScripts(modules)).toEqual([
      { package: '@acme/pre@2.0.0', script: 'preinstall', command: 'a' },
      { package: 'deep@0.1.0', script: 'postinstall', command: 'b' },
      { package: 'native@3.0.0', script: 'install', command: 'node-gyp rebuild' },
    ]);
  });
});
