import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AgentdError } from '../../core/errors.ts';

const run = promisify(execFile);

/**
 * Installs an npm package into a server's own folder, once, at registration (with the
 * network), so that the server later starts from its folder without fetching anything (in a
 * sandbox without network, too). Returns the absolute path of the package's executable.
 */
export async function installNpmServer(dir: string, spec: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  try {
    await run(
      'npm',
      [
        'install',
        '--prefix',
        dir,
        '--no-audit',
        '--no-fund',
        '--no-save',
        '--loglevel=error',
        spec,
      ],
      {
        timeout: 300_000,
        maxBuffer: 10_000_000,
      },
    );
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? '')
      .trim()
      .split('\n')
      .at(-1);
    throw new AgentdError(
      'registry_invalid',
      `npm could not install ${spec}: ${stderr || (error as Error).message}`,
    );
  }
  const name = spec.replace(/(.)@[^@/]*$/, '$1');
  const manifest = JSON.parse(
    readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8'),
  ) as {
    bin?: string | Record<string, string>;
  };
  const bins =
    typeof manifest.bin === 'string'
      ? { [name.split('/').pop()!]: manifest.bin }
      : (manifest.bin ?? {});
  const [first] = Object.keys(bins);
  if (!first)
    throw new AgentdError(
      'registry_invalid',
      `${spec} has no executable (no "bin" in its package.json): it is not an MCP server agentd can start`,
    );
  return join(dir, 'node_modules', '.bin', first);
}
