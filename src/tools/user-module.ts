import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage } from '../core/errors.ts';

/** Why a module a user wrote (tools, an evaluator) could not be imported, in their words. */
export class UserModuleError extends Error {
  readonly notFound: boolean;
  constructor(message: string, notFound: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UserModuleError';
    this.notFound = notFound;
  }
}

/**
 * Imports a module a user wrote (TypeScript or JavaScript). A failure is a `UserModuleError`
 * whose message says what to do: the file is missing, it imports `agentd` from a folder that
 * cannot reach it, or it uses `import` in a folder whose package.json says CommonJS.
 */
export async function importUserModule(file: string): Promise<Record<string, unknown>> {
  // Node warns before it throws on `import` in a CommonJS file; the error below says it
  // better, so that one warning is held back while the module loads (others pass).
  const printers = process.listeners('warning');
  process.removeAllListeners('warning');
  const filter = (warning: Error) => {
    if (warning.message.startsWith('Failed to load the ES module')) return;
    for (const print of printers) print(warning);
  };
  process.on('warning', filter);
  try {
    return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new UserModuleError(explain(file, error), isNotFound(file, error), { cause: error });
  } finally {
    process.off('warning', filter);
    for (const print of printers) process.on('warning', print);
  }
}

function isNotFound(file: string, error: unknown): boolean {
  // "Cannot find module '<the module>'" is the module itself; anything else is an import of it.
  return (
    (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
    errorMessage(error).includes(`'${file}'`)
  );
}

function explain(file: string, error: unknown): string {
  const message = errorMessage(error);
  if (isNotFound(file, error)) return `${file} not found`;
  if (
    (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' &&
    message.includes("package 'agentd'")
  ) {
    return `${file} imports 'agentd', which cannot be found from there: keep it in a folder whose node_modules has agentd (npm install agentd)`;
  }
  if (/Cannot use import statement outside a module|ERR_REQUIRE_ESM/.test(message)) {
    const manifest = nearestPackageJson(dirname(file));
    return manifest
      ? `${file} uses import, but ${manifest} says "type": "commonjs": set "type": "module" there, or name the file .mts`
      : `${file} uses import but is loaded as CommonJS: name it .mts, or add a package.json with "type": "module" beside it`;
  }
  return `cannot load ${file}: ${message}`;
}

function nearestPackageJson(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const type = (JSON.parse(readFileSync(candidate, 'utf8')) as { type?: unknown }).type;
        return type === 'commonjs' ? candidate : undefined;
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}
