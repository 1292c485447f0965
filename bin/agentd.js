#!/usr/bin/env node
// Entry point. Kept to syntax that any Node can parse, so an old Node gets a clear message
// (or is swapped for the Node 24 that the package brings) instead of a syntax error.
const [major, minor] = process.versions.node.split('.').map(Number);
if (
  major === 22 &&
  minor >= 13 &&
  minor < 18 &&
  !process.execArgv.includes('--experimental-strip-types')
) {
  // 22.13 to 22.17 run TypeScript only behind a flag.
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
if (major < 22 || (major === 22 && minor < 13)) {
  const { existsSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const { spawnSync } = await import('node:child_process');
  const bundled = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (existsSync(bundled) && !process.env.AGENTD_REEXEC) {
    const child = spawnSync(bundled, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, AGENTD_REEXEC: '1' },
    });
    process.exit(child.status ?? 1);
  }
  process.stderr.write(
    `agentd: needs Node 22.13 or newer (this is ${process.version}); run it with npx agentd from the checkout after npm install, which brings Node 24\n`,
  );
  process.exit(2);
}
// Caches compiled code (and stripped TypeScript) between runs: start-up is most of a short command.
const { enableCompileCache } = await import('node:module');
enableCompileCache?.();
const { main } = await import('../src/cli/main.ts');
process.exit(await main(process.argv.slice(2)));
