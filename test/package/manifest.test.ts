import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  engines: { node: string };
  bin: Record<string, string>;
  types: string;
  exports: Record<string, string | { types: string; default: string }>;
  files: string[];
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const npmCli = process.env.npm_execpath?.endsWith('.js') ? process.env.npm_execpath : undefined;

/** The files `npm pack` would put in the tarball, by npm's own rules. */
function packedFiles(dir: string): Set<string> {
  const args = ['pack', '--dry-run', '--json', '--ignore-scripts'];
  const out = npmCli
    ? execFileSync(process.execPath, [npmCli, ...args], { cwd: dir, encoding: 'utf8' })
    : execFileSync('npm', args, { cwd: dir, encoding: 'utf8' });
  const [report] = JSON.parse(out) as { files: { path: string }[] }[];
  return new Set(report!.files.map((file) => file.path));
}

/** Specifiers a built file imports, statically or with a literal import(). */
function imports(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(
    /(?:^|[\n;}])\s*(?:import|export)\s[^;'"]*?from\s*['"]([^'"\s]+)['"]|\bimport\(\s*['"]([^'"\s]+)['"]\s*\)|(?:^|\n)import\s*['"]([^'"\s]+)['"]/g,
  )) {
    found.push((match[1] ?? match[2] ?? match[3])!);
  }
  return found;
}

function walk(dir: string, base = ''): string[] {
  return readdirSync(join(dir, base), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(dir, join(base, entry.name)) : [join(base, entry.name)],
  );
}

describe('the npm package', () => {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Manifest;

  it('is publishable: not private, a version, the Node versions it runs on', () => {
    expect(manifest.private).toBeUndefined();
    expect(manifest.version).toMatch(/^\d+\.\d+\.\d+(-[\w.]+)?$/);
    expect(manifest.engines.node).toBe('^22.13.0 || >=24');
    const changelog = readFileSync(join(repoRoot, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toContain(`## ${manifest.version}`);
  });

  it('packs the built API, its declarations and the bin, and neither sources nor tests', () => {
    // A copy of the checkout, built as prepack builds it, packed by npm's own rules.
    const dir = tempDir();
    for (const entry of readdirSync(repoRoot)) {
      if (['node_modules', '.git', 'dist', 'bench', 'coverage'].includes(entry)) continue;
      cpSync(join(repoRoot, entry), join(dir, entry), {
        recursive: true,
        filter: (source) => !source.includes('/node_modules'),
      });
    }
    symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
    execFileSync(process.execPath, [join(dir, 'scripts/build.ts')], { cwd: dir });
    const files = packedFiles(dir);

    const targets = [
      manifest.types,
      ...Object.values(manifest.exports).flatMap((target) =>
        typeof target === 'string' ? [target] : [target.types, target.default],
      ),
      ...Object.values(manifest.bin),
    ].map((target) => normalize(target));
    for (const target of targets) expect(files, target).toContain(target);

    // The bin starts the built CLI when src/ is absent, as it is in the package.
    const bin = readFileSync(join(dir, manifest.bin.agentd!), 'utf8');
    expect(bin.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(bin).toContain("'../dist/cli/main.js'");
    expect(files).toContain('dist/cli/main.js');

    // Every relative import of every built file is in the package, none names a .ts file, and
    // every package one imports is a dependency.
    const built = [...files].filter((file) => file.startsWith('dist/') && file.endsWith('.js'));
    expect(built.length).toBeGreaterThan(20);
    const external = new Set<string>();
    let relative = 0;
    for (const file of built) {
      const source = readFileSync(join(dir, file), 'utf8');
      for (const specifier of imports(source)) {
        if (!specifier.startsWith('.')) {
          // A package the bundle leaves external must be one npm installs with agentd, or an
          // optional peer the user installs for a feature (node-llama-cpp for local models).
          const name = specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/');
          if (!specifier.startsWith('node:')) {
            external.add(name);
            const optionalPeers = Object.keys(manifest.peerDependencies ?? {}).filter(
              (peer) => manifest.peerDependenciesMeta?.[peer]?.optional,
            );
            expect(
              [...Object.keys(manifest.dependencies), ...optionalPeers],
              `${file} imports ${specifier}`,
            ).toContain(name);
          }
          continue;
        }
        relative++;
        const target = normalize(join(dirname(file), specifier));
        expect(target.endsWith('.ts') && !target.endsWith('.d.ts'), `${file}: ${specifier}`).toBe(
          false,
        );
        expect(files, `${file} imports ${specifier}`).toContain(target);
      }
    }
    // The scan sees imports at all: the lazily loaded dependencies stay imports of theirs.
    expect(relative).toBeGreaterThan(50);
    expect(external).toContain('@cedar-policy/cedar-wasm');
    expect(external).toContain('@modelcontextprotocol/client');
    // Every declaration the build wrote is shipped beside its JavaScript.
    for (const file of walk(join(dir, 'dist')).map((f) => join('dist', f))) {
      expect(files, file).toContain(file);
    }

    for (const file of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/THIRD-PARTY-NOTICES.md',
    ]) {
      expect(files).toContain(file);
    }
    expect(files).toContain('examples/unit-converter/agent.yaml');
    const outside = [...files].filter((file) =>
      /^(src|test|bench|scripts|docs\/plans|\.ci)\//.test(file),
    );
    expect(outside).toEqual([]);
    expect(existsSync(join(repoRoot, 'src/index.ts'))).toBe(true);
    // A hang guard, not a speed check: the build (esbuild, then tsc's declarations) takes a
    // minute or more on a busy machine.
  }, 300_000);
});
