import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const ROOT = '/srv/files';

/** GET /files?name=report.pdf */
export async function download(req, res) {
  const data = await readFile(join(ROOT, req.query.name));
  res.end(data);
}
