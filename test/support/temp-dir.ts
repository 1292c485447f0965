import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

/** Folders made outside a test (in beforeAll, say): removed after the file's last test. */
const madeOutsideTests = new Set<string>();
afterAll(() => {
  for (const dir of madeOutsideTests) rmSync(dir, { recursive: true, force: true });
  madeOutsideTests.clear();
});

/**
 * A fresh folder under the suite's temp folder, removed when the test that made it ends
 * (pass or fail), or after the file's last test when made in a hook. The suite fails if
 * anything is left behind (test/support/global-setup.ts).
 */
export function tempDir(prefix = 'agentd-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  } catch {
    // not inside a test
    madeOutsideTests.add(dir);
  }
  return dir;
}
