import type { Dirent } from 'node:fs';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Names of files that hold credentials by convention: `.env` and its variants, private keys
 * and certificates' keys, SSH keys, and the usual credential files. A directory search skips
 * them (the policy decides on the directory, not on each file in it); a file named by its path
 * is the policy's to decide.
 */
const secretName =
  /^(?:\.env(?:\..*)?|.*\.(?:pem|key|p12|pfx|jks|keystore)|id_(?:rsa|dsa|ecdsa|ed25519)|\.netrc|\.pgpass|\.npmrc|\.pypirc|\.git-credentials|credentials\.json)$/i;

export function isSecretFileName(name: string): boolean {
  return secretName.test(name);
}

/** How a search's description names what it skips. */
export const secretFilesSkipped =
  'files named like credentials (.env, .env.*, *.pem, *.key, id_rsa, .netrc, .npmrc, ...)';

/** How many entries a look for secret files under a sandbox's folder reads at most. */
const maxEntries = 20_000;

/**
 * Files under `root` named like credentials (not entering `node_modules`, `.git` or symlinks),
 * at most `maxEntries` entries looked at: what a sandboxed command must not read.
 */
export function secretFilesUnder(root: string): string[] {
  const found: string[] = [];
  let seen = 0;
  const visit = (dir: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (++seen > maxEntries) return;
      const path = join(dir, entry.name);
      if (entry.isFile() && isSecretFileName(entry.name)) found.push(path);
      else if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== '.git') {
        visit(path);
      }
    }
  };
  visit(root);
  return found;
}

/**
 * bubblewrap's wrapper with every credential file under `root` covered by an empty file, so a
 * command the policy allows (`grep -r`, `head`) cannot read what the file tools refuse.
 * Looked for on every command: a file made since the last is covered too.
 */
export function maskSecretFiles(wrapper: readonly string[], root: string): string[] {
  const masks = secretFilesUnder(root).flatMap((file) => ['--ro-bind', '/dev/null', file]);
  if (masks.length === 0) return [...wrapper];
  // before the final `--` that ends bwrap's options
  return [...wrapper.slice(0, -1), ...masks, wrapper.at(-1)!];
}
