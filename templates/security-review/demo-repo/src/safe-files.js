import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

const ROOT = '/srv/public';

/** GET /public?name=logo.png: only a file name, never a path. */
export async function downloadPublic(req, res) {
  const name = basename(String(req.query.name ?? ''));
  if (!/^[\w.-]+$/.test(name)) return res.writeHead(400).end();
  res.end(await readFile(join(ROOT, name)));
}
