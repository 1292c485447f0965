import { readFileSync } from 'node:fs';

/** The service's settings, from config.ini (key=value lines). */
export function loadConfig(path = 'config.ini') {
  const out = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  }
  return out;
}
