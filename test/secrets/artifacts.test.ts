import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentd, type CliResult } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import { plantedTexts, secretParts } from './planted.ts';

/** Every file under `dir`, as bytes read as text (the SQLite file and its WAL included). */
function filesUnder(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path));
    else out.push({ path, text: readFileSync(path).toString('latin1') });
  }
  return out;
}

/** Where each planted secret survived: `name in where`. */
function leaks(where: string, text: string): string[] {
  const found: string[] = [];
  for (const [name, secret] of Object.entries(secretParts())) {
    if (text.includes(secret) || text.includes(JSON.stringify(secret).slice(1, -1))) {
      found.push(`${name} in ${where}`);
    }
  }
  return found;
}

describe('planted secrets never reach an artifact', () => {
  it('a run with every well-known secret format in its task: store, exports, trace, dataset, score, output', async () => {
    const home = tempDir();
    const out = tempDir();
    const task = `Convert 3 miles to km. Context:\n${Object.values(plantedTexts()).join('\n')}`;
    const outputs: [string, CliResult][] = [];
    const step = async (name: string, args: string[]) => {
      const result = await agentd(args, { home, cwd: out });
      expect(result.code, `${name}: ${result.stderr}`).toBe(0);
      outputs.push([name, result]);
      return result;
    };

    const run = await step('run', [
      'run',
      join(process.cwd(), 'examples/unit-converter/agent.yaml'),
      task,
    ]);
    const id = /run (run_[0-9a-z]+) · agentd runs show/.exec(run.stderr)?.[1];
    expect(id, run.stderr).toBeDefined();
    await step('run --json', [
      'run',
      join(process.cwd(), 'examples/unit-converter/agent.yaml'),
      task,
      '--json',
    ]);
    await step('runs show', ['runs', 'show', id!]);
    await step('runs show --json', ['runs', 'show', id!, '--json']);
    await step('runs list', ['runs', 'list']);
    await step('runs export', ['runs', 'export', id!, '-o', join(out, 'events.jsonl')]);
    await step('runs trace', ['runs', 'trace', id!, '-o', join(out, 'trace.json')]);
    await step('dataset', ['eval', 'dataset', 'from-runs', '-o', join(out, 'cases.jsonl')]);
    await step('score', ['eval', 'score', id!, '--evaluator', 'errors', '--json', 'scored.json']);

    // the task reached the store (redacted), so the scan looks at real artifacts
    const events = readFileSync(join(out, 'events.jsonl'), 'utf8');
    expect(events).toContain('Convert 3 miles to km.');
    expect(events).toContain('[redacted]');
    const found = [
      ...outputs.flatMap(([name, r]) => [
        ...leaks(`${name} stdout`, r.stdout),
        ...leaks(`${name} stderr`, r.stderr),
      ]),
      ...[...filesUnder(home), ...filesUnder(out)].flatMap((f) => leaks(f.path, f.text)),
    ];
    expect(found).toEqual([]);
  }, 120_000); // ten agentd commands in a row: a hang guard, not a measure of speed
});
