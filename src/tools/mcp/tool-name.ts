import { createHash } from 'node:crypto';

const allowed = /^[a-zA-Z0-9_-]{1,64}$/;
const maxLength = 64;

/**
 * The name a model sees for an MCP tool: `<server>__<tool>`, in the characters providers
 * accept ([a-zA-Z0-9_-], at most 64). A name that has to change (other characters, too long,
 * already given out) gets its other characters replaced by `_`, is cut to fit and ends in a
 * short hash of the original, so two tools never share a name. `taken` holds the names
 * already given out and is updated.
 */
export function modelToolName(server: string, tool: string, taken: Set<string>): string {
  const original = `${server}__${tool}`;
  let name = original;
  if (!allowed.test(original) || taken.has(original)) {
    const cleaned = original.replace(/[^a-zA-Z0-9_-]/g, '_');
    const fitted = (suffix: string) => `${cleaned.slice(0, maxLength - suffix.length)}${suffix}`;
    name = fitted(`_${hash(original)}`);
    for (let n = 2; taken.has(name); n++) name = fitted(`_${hash(original)}_${n}`);
  }
  taken.add(name);
  return name;
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 6);
}
