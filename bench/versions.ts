import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Machine } from './results.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const bench = fileURLToPath(new URL('.', import.meta.url));

function versionOf(pkg: string): string {
  try {
    const file = `${bench}node_modules/${pkg}/package.json`;
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

/** agentd's version and the commit measured (`+dirty` when the tree has changes). */
function agentdVersion(): string {
  const { version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
    version: string;
  };
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      cwd: root,
      encoding: 'utf8',
    }).trim();
    return `${version} (${commit}${dirty ? '+dirty src' : ''})`;
  } catch {
    return version;
  }
}

export function versionsOf(packages: readonly string[]): Record<string, string> {
  const versions: Record<string, string> = {};
  for (const pkg of packages) versions[pkg] = pkg === 'agentd' ? agentdVersion() : versionOf(pkg);
  return versions;
}

export function machine(): Machine {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.version,
  };
}
