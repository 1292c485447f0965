import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../support/cli.ts';

/**
 * An agent whose tools leave their effects in `effects/` (set as WORKER_EFFECTS for the
 * workers): `count` checks its idempotency key (an effect once per key whoever runs it),
 * `bump` is neither idempotent nor key-checked (every run of it is an effect), `hold` checks
 * its key and waits until `effects/release` exists.
 */
export function workerProject(dir: string, turns: string[][]): { spec: string; effects: string } {
  const effects = join(dir, 'effects');
  mkdirSync(effects, { recursive: true });
  writeFileSync(
    join(dir, 'tools.ts'),
    `import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineTool, z } from ${JSON.stringify(`${repoRoot}src/index.ts`)};
const effects = () => process.env.WORKER_EFFECTS!;
export const count = defineTool({
  name: 'count', description: 'count', input: z.object({}), checksIdempotencyKey: true,
  async execute(_, { idempotencyKey }) {
    await new Promise((r) => setTimeout(r, 5));
    const file = join(effects(), 'count.log');
    const seen = existsSync(file) ? readFileSync(file, 'utf8').split('\\n') : [];
    if (!seen.includes(idempotencyKey)) appendFileSync(file, idempotencyKey + '\\n');
    return 'counted';
  },
});
export const bump = defineTool({
  name: 'bump', description: 'bump', input: z.object({}),
  async execute(_, { idempotencyKey }) {
    appendFileSync(join(effects(), 'bump.log'), idempotencyKey + '\\n');
    await new Promise((r) => setTimeout(r, 5));
    return 'bumped';
  },
});
export const hold = defineTool({
  name: 'hold', description: 'hold', input: z.object({}), checksIdempotencyKey: true,
  async execute(_, { idempotencyKey }) {
    appendFileSync(join(effects(), 'hold-runs.log'), idempotencyKey + '\\n');
    while (!existsSync(join(effects(), 'release'))) await new Promise((r) => setTimeout(r, 5));
    return 'held';
  },
});
`,
  );
  const script = turns
    .map(
      (tools, i) =>
        `  - text: step ${i + 1}\n    tool_calls:\n${tools.map((t) => `      - name: ${t}\n`).join('')}`,
    )
    .join('');
  writeFileSync(join(dir, 'script.yaml'), `turns:\n${script}  - text: all done\n`);
  const spec = join(dir, 'agent.yaml');
  writeFileSync(
    spec,
    'name: steady\nmodel: scripted/steady\nscript: script.yaml\ntools:\n  - module: tools.ts\n',
  );
  return { spec, effects };
}
