import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initRepository } from '../definition/agent-template.ts';

/**
 * A fresh copy of a case's folder for one trial, in the system's temporary folder: the agent
 * changes the copy, never the fixture. A folder that is not a git repository becomes one, with
 * everything committed, so evaluators can diff what the agent changed. The caller removes it.
 */
export function freshWorkdir(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'agentd-case-'));
  try {
    cpSync(source, dir, { recursive: true });
    if (!existsSync(join(dir, '.git'))) {
      const made = initRepository(dir);
      if (!made.git) throw new Error(made.note ?? `could not make ${dir} a git repository`);
    }
    return dir;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
