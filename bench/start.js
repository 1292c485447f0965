// `npm run bench` starts here. Plain JavaScript that any Node runs: it installs what is
// missing (agentd's own dependencies, which bring Node 24, and the benchmark's peers from
// bench/package-lock.json), then runs bench/run.ts on Node 24 with the arguments given.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bench = dirname(fileURLToPath(import.meta.url));
const root = dirname(bench);

function npm(cwd, args) {
  const execPath = process.env.npm_execpath;
  const [command, prefix] = execPath?.endsWith('.js')
    ? [process.execPath, [execPath]]
    : ['npm', []];
  const result = spawnSync(command, [...prefix, ...args], { cwd, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`bench: npm ${args.join(' ')} failed in ${cwd}\n`);
    process.exit(result.status ?? 1);
  }
}

function lockHash(dir) {
  return createHash('sha256')
    .update(readFileSync(join(dir, 'package-lock.json')))
    .digest('hex');
}

// agentd's dependencies (and Node 24), installed as the Quickstart does, when missing.
const node24 = join(root, 'node_modules', 'node', 'bin', 'node');
if (!existsSync(node24) || !existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  process.stderr.write('bench: installing agentd (npm ci)\n');
  npm(root, ['ci', '--no-audit', '--no-fund']);
}

// The peers, from bench's own lockfile, whenever it changed since the last install.
const stamp = join(bench, 'node_modules', '.bench-lock-sha256');
const hash = lockHash(bench);
if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== hash) {
  process.stderr.write('bench: installing the peer frameworks (npm ci in bench/)\n');
  npm(bench, ['ci', '--no-audit', '--no-fund']);
  writeFileSync(stamp, hash);
}

const node = existsSync(node24) ? node24 : process.execPath;
const run = spawnSync(node, [join(bench, 'run.ts'), ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(run.status ?? 1);
