// Builds the package: dist/ with the JavaScript users run and the declarations they type
// against. `npm run build` (and `npm pack`, through prepack) runs it; the checkout runs the
// TypeScript sources and needs no build.
//
// - JavaScript: esbuild bundles the entry points with code splitting, so a command loads a
//   few files instead of hundreds of modules (start-up is most of a short command), and
//   what a command does not use stays in chunks it never loads. The pure-JavaScript
//   dependencies on the start-up path are bundled in (BUNDLED); every other dependency stays
//   an import of the installed package.
// - Declarations: tsc, file by file under dist/ (the bundle's entries have theirs beside
//   them: dist/index.d.ts for dist/index.js).
// - dist/THIRD-PARTY-NOTICES.md: the licence of every package bundled in.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');

/** Bundled into dist/: what every command loads at start-up, all plain JavaScript. */
const BUNDLED = [
  'zod',
  'yaml',
  'commander',
  '@ai-sdk/provider',
  '@ai-sdk/provider-utils',
  '@ai-sdk/openai-compatible',
  '@ai-sdk/openai',
  '@ai-sdk/anthropic',
  'eventsource-parser',
  '@workflow/serde',
  '@secretlint/secretlint-rule-preset-recommend',
];

/** Entry points: the API, the CLI, and the files agentd starts threads or processes on. */
const ENTRIES = ['src/index.ts', 'src/cli/main.ts', 'src/tools/connectors/search-worker.ts'];

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Every bare import outside BUNDLED stays external (a dependency the user's npm installed). */
const externals: Plugin = {
  name: 'externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      if (BUNDLED.includes(packageName(args.path))) return undefined;
      return { path: args.path, external: true };
    });
  },
};

function notices(metafile: Metafile): string {
  const packages = new Map<string, string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
    if (match) packages.set(match[1]!, join(root, 'node_modules', match[1]!));
  }
  const sections = [...packages.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, dir]) => {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        version: string;
        license?: string;
      };
      const file = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license']
        .map((f) => join(dir, f))
        .find((f) => existsSync(f));
      const text = file ? readFileSync(file, 'utf8').trim() : `License: ${manifest.license}`;
      return `## ${name} ${manifest.version} (${manifest.license ?? 'see below'})\n\n${text}\n`;
    });
  return `# Third-party notices\n\nagentd's built files (dist/) include code of these packages, under their licences.\n\n${sections.join('\n')}`;
}

/** What both builds of agentd's code share. */
const shared: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node22.13',
  plugins: [externals],
  legalComments: 'none',
  logLevel: 'warning',
};

rmSync(dist, { recursive: true, force: true });
const result = await build({
  ...shared,
  entryPoints: ENTRIES,
  outbase: 'src',
  outdir: 'dist',
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  format: 'esm',
  metafile: true,
  // Some bundled CommonJS code calls require() for Node's own modules.
  banner: {
    js: "import { createRequire as __agentdRequire } from 'node:module'; const require = __agentdRequire(import.meta.url);",
  },
});
// The CLI again as one CommonJS file, which bin/agentd.js runs with a code cache made after a
// command ran (bin/bundle.js): the functions a command calls are compiled once, not on every
// start. It carries the API too, for the tool modules that import `agentd`.
const cli = await build({
  ...shared,
  stdin: {
    contents: "export { main } from './src/cli/main.ts';\nexport * as api from './src/index.ts';\n",
    resolveDir: root,
    sourcefile: 'cli-bundle.ts',
    loader: 'ts',
  },
  outfile: 'dist/cli/agentd.cjs',
  format: 'cjs',
  metafile: true,
  define: { 'import.meta.url': '__agentdModuleUrl' },
  banner: { js: "var __agentdModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
});
Object.assign(result.metafile.outputs, cli.metafile.outputs);
// esbuild escapes what is not ASCII in strings and names but keeps it in the comments it
// keeps; one such character makes V8 hold the whole file as two-byte text, and every start
// then converts it back to UTF-8 to look up the compile cache. Escaped, a comment reads the same.
for (const file of Object.keys(result.metafile.outputs).filter((f) => /\.c?js$/.test(f))) {
  const path = join(root, file);
  const text = readFileSync(path, 'utf8');
  const ascii = text.replace(
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  if (ascii !== text) writeFileSync(path, ascii);
}
writeFileSync(join(dist, 'THIRD-PARTY-NOTICES.md'), notices(result.metafile));
execFileSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  { stdio: 'inherit' },
);
const outputs = Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.js'));
const bytes = outputs.reduce((sum, f) => sum + result.metafile.outputs[f]!.bytes, 0);
process.stdout.write(
  `build: dist/ with ${outputs.length} files of JavaScript (${(bytes / 1024).toFixed(0)} KiB) and the declarations\n`,
);
