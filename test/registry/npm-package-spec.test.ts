import { describe, expect, it } from 'vitest';
import {
  formatNpmSpec,
  npxTransport,
  parseNpmSpec,
} from '../../src/tools/registry/npm-package-spec.ts';

describe('npm package specs from a registry entry', () => {
  it('takes names by npm rules, scoped ones too, with a version, ^/~/x-range or dist-tag', () => {
    expect(parseNpmSpec('tiny-mcp', 'f')).toEqual({ name: 'tiny-mcp' });
    expect(parseNpmSpec('@acme/server.v2', 'f')).toEqual({ name: '@acme/server.v2' });
    for (const version of [
      '1.2.3',
      '1.0.0-beta.1+build.5',
      '^1.2',
      '~1.2.3',
      '1.x',
      '*',
      'latest',
      'next',
    ]) {
      expect(parseNpmSpec(`@acme/server@${version}`, 'f')).toEqual({
        name: '@acme/server',
        version,
      });
    }
    expect(formatNpmSpec({ name: '@acme/server', version: '^2' })).toBe('@acme/server@^2');
    expect(npxTransport({ name: 'a' }, ['--x'])).toEqual({
      type: 'stdio',
      command: 'npx',
      args: ['-y', '--ignore-scripts', '--', 'a', '--x'],
    });
  });

  it('refuses options, paths, tarballs, URLs, git specs, aliases, whitespace and shell characters, naming why', () => {
    const why = (spec: string) => {
      try {
        parseNpmSpec(spec, '--npm');
      } catch (error) {
        const message = (error as Error).message;
        expect(message.split('\n')).toHaveLength(1);
        expect(message).toMatch(
          /^--npm: ".*" is not an npm package name with an optional @version \(/,
        );
        expect(message).toMatch(/register the command: agentd mcp add <name> -- <command>$/);
        return /@version \((.*)\); to run/.exec(message)![1];
      }
      throw new Error(`${spec} was taken`);
    };
    expect(why('--prefix=/tmp/x')).toBe('it would be an option to npm');
    expect(why('-g')).toBe('it would be an option to npm');
    expect(why('tiny@--tag')).toBe('it would be an option to npm');
    expect(why('../x')).toBe('a path or tarball, not a registry name');
    expect(why('/abs/evil-mcp-1.0.0.tgz')).toBe('a path or tarball, not a registry name');
    expect(why('evil.tgz')).toBe('a path or tarball, not a registry name');
    expect(why('~/x')).toBe('a path or tarball, not a registry name');
    expect(why('git+https://example.com/e.git')).toBe(
      'a URL, git or other spec, not a registry name',
    );
    expect(why('https://example.com/e.tgz')).toBe('a URL, git or other spec, not a registry name');
    expect(why('github:evil/e')).toBe('a URL, git or other spec, not a registry name');
    expect(why('evil@npm:other')).toBe('a URL, git or other spec, not a registry name');
    expect(why('evil@file:../x')).toBe('a URL, git or other spec, not a registry name');
    expect(why('evil/repo')).toBe('a path or a GitHub owner/repo, not a registry name');
    expect(why('a b')).toBe('it has whitespace');
    expect(why('a\nb')).toBe('it has whitespace');
    expect(why('$(touch m)')).toBe('$ is a shell character');
    expect(why('`touch m`')).toBe('` is a shell character');
    expect(why('a;b')).toBe('; is a shell character');
    expect(why('a@>=1')).toBe('> is a shell character');
    expect(why('Upper')).toBe('name can no longer contain capital letters');
    expect(why('fs')).toBe('fs is a core module name');
    expect(why('a@')).toBe('nothing after @');
    expect(why('a@1.2.3.4.5')).toBe('not a version, a ^ or ~ range, an x-range or a dist-tag');
    expect(why('é')).toBe(
      'only letters, digits and @ / . _ ~ ^ * + - can be in an npm name or version',
    );
  });

  it('shows a long or multi-line value clipped on one line', () => {
    expect(() => parseNpmSpec(`${'x'.repeat(300)}\n`, 'f')).toThrow(
      /^f: "x{76}…" is not an npm package name/,
    );
  });
});
