import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Whether this code runs from the TypeScript sources (a checkout) rather than the built
 * package, where it is bundled into `dist/`.
 */
export const fromSources = import.meta.url.endsWith('.ts');

let root: string | undefined;

/**
 * The agentd package's own folder: the nearest folder above this module with agentd's
 * package.json. Found from this module's location, which differs between the sources
 * (`src/config/`) and the bundle (`dist/` or a chunk folder under it).
 */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && isAgentd(manifest)) {
      root = dir;
      return dir;
    }
    if (dirname(dir) === dir)
      throw new Error(`agentd's package.json not found above ${import.meta.url}`);
  }
}

function isAgentd(manifest: string): boolean {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name === 'agentd';
  } catch {
    return false;
  }
}

/**
 * A file of agentd's own that a process or worker thread is started on: `source` in a
 * checkout (a path under `src/`), its built twin under `dist/` in the package.
 */
export function ownEntry(source: string): string {
  const built = source.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js');
  return join(packageRoot(), fromSources ? source : built);
}

/** The CLI's entry, for starting agentd in a process of its own. */
export function agentdBin(): string {
  return join(packageRoot(), 'bin', 'agentd.js');
}
