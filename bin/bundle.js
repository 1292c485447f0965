// Runs the CLI from its one-file bundle (dist/cli/agentd.cjs) with a V8 code cache made after
// a command has run. Node's own compile cache is written when a module is compiled, before it
// runs, so it holds a module's top-level code only: every function a command calls would be
// parsed and compiled again on each start. A cache made after the command ran holds those
// functions too (vm.Script's createCachedData), and start-up skips that work.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

/** The CLI's exports: `main`, and the API that tool modules get when they import `agentd`. */
const API = Symbol.for('agentd.api');

/**
 * Where a command's code cache lives: beside Node's compile cache, one file per command and
 * per build of the bundle and of Node (V8 also refuses a cache that is not its own).
 */
function cacheFiles(file, command, cacheDir) {
  if (!cacheDir) return undefined;
  const { size, mtimeMs } = statSync(file);
  const name = [
    'agentd',
    process.version,
    process.arch,
    size,
    Math.trunc(mtimeMs),
    (command ?? 'none').replace(/[^\w-]/g, '_'),
  ].join('-');
  // `ok`: made after the command succeeded; `any`: after it failed (fewer functions in it),
  // used until a command succeeds and replaces it.
  return { ok: join(cacheDir, `${name}.ok.bin`), any: join(cacheDir, `${name}.any.bin`) };
}

function read(path) {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

function write(path, data) {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, data);
    renameSync(temp, path);
  } catch {
    // A cache that cannot be written costs the next start its compile time, nothing else.
  }
}

export async function runBundle(bundle, args, cacheDir, registerHooks) {
  const file = fileURLToPath(bundle);
  const files = cacheFiles(
    file,
    args.find((arg) => !arg.startsWith('-')),
    cacheDir,
  );
  const ok = files && read(files.ok);
  const cachedData = ok ?? (files && read(files.any));
  const source = readFileSync(file, 'utf8');
  // Imports at run time (the packages the bundle leaves out, Node's own modules, users' files)
  // go to Node's own loader, as a module's would. Node calls that option experimental and says
  // so, at the first such import, once per process; users have nothing to do about it.
  const emitWarning = process.emitWarning;
  process.emitWarning = (warning, ...rest) =>
    String(warning).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')
      ? undefined
      : emitWarning.call(process, warning, ...rest);
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    {
      filename: file,
      cachedData,
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    },
  );
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  const { main, api } = module.exports;
  globalThis[API] = api;
  // Tool modules and evaluators import `agentd`: they get this copy of it, the one running
  // them, whether or not their own folder has agentd installed.
  const names = Object.keys(api).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name));
  const apiSource = [
    `const api = globalThis[Symbol.for('agentd.api')];`,
    ...names.map((name) => `export const ${name} = api.${name};`),
  ].join('\n');
  const apiUrl = 'agentd:api';
  registerHooks({
    resolve: (specifier, context, next) =>
      specifier === 'agentd' ? { url: apiUrl, shortCircuit: true } : next(specifier, context),
    load: (url, context, next) =>
      url === apiUrl
        ? { format: 'module', source: apiSource, shortCircuit: true }
        : next(url, context),
  });
  const code = await main(args);
  if (files) {
    const rejected = cachedData && script.cachedDataRejected;
    if (code === 0 && (!ok || rejected)) write(files.ok, script.createCachedData());
    else if (!cachedData || rejected) write(files.any, script.createCachedData());
  }
  return code;
}
