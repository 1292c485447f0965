#!/usr/bin/env node
// Entry point. Kept to syntax that any Node can parse, so an old Node gets a clear message
// (or, in a checkout, is swapped for the Node 24 that the package brings) instead of a
// syntax error. An installed package runs its built JavaScript (dist/); a checkout, which
// has src/ and no build, runs the TypeScript sources directly.
import { existsSync, readFileSync } from 'node:fs';

const [major, minor] = process.versions.node.split('.').map(Number);
const source = new URL('../src/cli/main.ts', import.meta.url);
const fromSource = existsSync(source);

if (major < 22 || (major === 22 && minor < 13)) {
  const { fileURLToPath } = await import('node:url');
  const bundled = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (fromSource && existsSync(bundled) && !process.env.AGENTD_REEXEC) {
    // A checkout on an old system Node: its devDependencies bring Node 24.
    const { spawnSync } = await import('node:child_process');
    const child = spawnSync(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, AGENTD_REEXEC: '1' },
    });
    process.exit(child.status ?? 1);
  }
  const quoted = process.argv
    .slice(2)
    .map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`));
  process.stderr.write(
    `agentd: needs Node 22.13 or newer, this is ${process.version}; install Node 24 LTS, or run agentd on Node 24 from npm: ${['npx -p node@24 -p agentd agentd', ...quoted].join(' ')}\n`,
  );
  process.exit(2);
}
if (major === 22 && minor < 18 && !process.execArgv.includes('--experimental-strip-types')) {
  // 22.13 to 22.17 load TypeScript (the checkout's sources, users' tool modules) only
  // behind a flag.
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const child = spawnSync(
    process.execPath,
    [
      '--experimental-strip-types',
      '--no-warnings',
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit' },
  );
  process.exit(child.status ?? 1);
}
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // The one command that needs nothing but the package's own manifest.
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`${manifest.version}\n`);
  process.exit(0);
}
const { enableCompileCache, getCompileCacheDir, registerHooks } = await import('node:module');
// Caches compiled code between runs: start-up is most of a short command.
enableCompileCache?.();
const bundle = new URL('../dist/cli/agentd.cjs', import.meta.url);
if (!fromSource && registerHooks && existsSync(bundle)) {
  const { runBundle } = await import('./bundle.js');
  process.exit(await runBundle(bundle, args, getCompileCacheDir?.(), registerHooks));
}
// Tool modules and evaluators import `agentd`: they get this copy of it, the one running
// them, whether or not their own folder has agentd installed.
const api = new URL(fromSource ? '../src/index.ts' : '../dist/index.js', import.meta.url).href;
registerHooks?.({
  resolve: (specifier, context, next) =>
    specifier === 'agentd' ? { url: api, shortCircuit: true } : next(specifier, context),
});
const { main } = await import(fromSource ? source.href : '../dist/cli/main.js');
process.exit(await main(args));
