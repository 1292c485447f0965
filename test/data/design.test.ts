import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { handRun } from '../evals/events.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { FakeDataModel } from '../support/fake-data-model.ts';
import { tempDir } from '../support/temp-dir.ts';

const FAKE = 'openai-compatible/fake-data';

let fake: FakeDataModel;
beforeAll(async () => {
  fake = await FakeDataModel.start();
});
afterAll(async () => {
  await fake.close();
});

/** A home whose config.yaml states the fake model's terms (a team's own model). */
function home(dir: string): string {
  const h = join(dir, 'home');
  agentdHomeConfig(
    h,
    `model_terms:\n  "${FAKE}": { distillable: "yes", source: "test fixture weights", as_of: "2026-12-01" }\n`,
  );
  return h;
}

function agentdHomeConfig(h: string, text: string): void {
  mkdirSync(h, { recursive: true });
  writeFileSync(join(h, 'config.yaml'), text);
}

function jsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function design(extra = '', rows = 12): string {
  return `name: unit
rows: ${rows}
seed: 3
concurrency: 4
models:
  gen: { model: ${FAKE}, base_url: ${fake.baseUrl} }
columns:
  - name: kind
    type: sampler
    sampler: category
    params: { values: [ok, BROKEN, BROKEN-ALWAYS, LOW], weights: [4, 2, 1, 1] }
  - name: n
    type: sampler
    sampler: poisson
    params: { mean: 4 }
  - name: text
    type: llm-text
    model: gen
    prompt: "Say something {{ kind }} about {{ n }}"
  - name: info
    type: llm-structured
    model: gen
    prompt: "Describe {{ kind }} {{ n }}"
    schema: { type: object, required: [echo], properties: { echo: { type: string } } }
    max_repairs: 1
  - name: score
    type: llm-judge
    model: gen
    prompt: "Judge {{ kind }}: {{ text }}"
    rubrics:
      - { name: quality, description: Is it good?, options: { "1": bad, "2": fine, "3": good } }
    threshold: { quality: 2 }
${extra}`;
}

describe('agentd data design', { timeout: 600_000 }, () => {
  it('generates, repairs or drops invalid JSON, filters by the judge, writes JSONL and Parquet', async () => {
    const dir = tempDir();
    const h = home(dir);
    writeFileSync(join(dir, 'design.yaml'), design());
    const made = await agentd(['data', 'design', 'design.yaml', '-o', 'out'], {
      home: h,
      cwd: dir,
    });
    expect(made.code, made.stderr).toBe(0);
    const rows = jsonl(join(dir, 'out', 'data.jsonl'));
    const manifest = JSON.parse(readFileSync(join(dir, 'out', 'manifest.json'), 'utf8'));
    const kinds = (
      await agentd(['data', 'design', 'design.yaml', '--preview', '12'], { home: h, cwd: dir })
    ).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind?: string; _dropped?: string });
    // preview and the generation agree row for row (seeded samplers, a deterministic model)
    expect(kinds.filter((k) => k.kind).map((k) => k.kind)).toEqual(rows.map((r) => r.kind));
    const dropped = kinds.filter((k) => k._dropped).map((k) => k._dropped!.split(':')[0]);
    expect(rows.every((r) => r.kind === 'ok' || r.kind === 'BROKEN')).toBe(true);
    const broken = rows.filter((r) => r.kind === 'BROKEN').length;
    expect(manifest.counts).toMatchObject({
      requested: 12,
      kept: rows.length,
      dropped: 12 - rows.length,
      repairs: broken + dropped.filter((d) => d === 'invalid').length,
      dropped_invalid: dropped.filter((d) => d === 'invalid').length,
      dropped_below_threshold: dropped.filter((d) => d === 'below_threshold').length,
    });
    expect(manifest.counts.dropped_invalid).toBeGreaterThan(0);
    expect(manifest.counts.dropped_below_threshold).toBeGreaterThan(0);
    expect(broken).toBeGreaterThan(0);
    expect(rows[0]).toMatchObject({
      text: expect.stringMatching(/^echo: Say something/),
      info: { echo: expect.any(String) },
      score: { quality: { score: 3, reasoning: 'scored 3' } },
    });
    expect(manifest).toMatchObject({
      origin: 'design',
      intendedUse: 'training',
      models: [{ model: FAKE, distillable: 'yes', origin: 'config' }],
    });
    expect(made.stderr).toMatch(
      new RegExp(
        `wrote ${rows.length} rows \\(${12 - rows.length} dropped, \\d+ repairs\\) to out/data\\.jsonl and data\\.parquet`,
      ),
    );
    expect(made.stderr).toMatch(
      /\[#+\.*\] \d+\/12 rows \(\d+ kept, \d+ dropped\) · [\d.]+ rows\/s · \$[\d.]+ · \d+ tokens · ETA/,
    );
    expect((await agentd(['data', 'verify', 'out'], { home: h, cwd: dir })).code).toBe(0);

    // the Parquet file, read back by DuckDB
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    const reader = await connection.runAndReadAll(
      `SELECT kind, n, text, info, score FROM read_parquet('${join(dir, 'out', 'data.parquet')}')`,
    );
    const back = reader.getRowObjectsJS();
    connection.closeSync();
    db.closeSync();
    expect(back.map((r) => r.kind)).toEqual(rows.map((r) => r.kind));
    expect(back.map((r) => Number(r.n))).toEqual(rows.map((r) => r.n));
    expect(back.map((r) => r.text)).toEqual(rows.map((r) => r.text));
    expect(back.map((r) => JSON.parse(String(r.score)))).toEqual(rows.map((r) => r.score));

    // run again: nothing is generated twice
    const before = fake.requests;
    const again = await agentd(['data', 'design', 'design.yaml', '-o', 'out'], {
      home: h,
      cwd: dir,
    });
    expect(again.code, again.stderr).toBe(0);
    expect(fake.requests).toBe(before);
    expect(jsonl(join(dir, 'out', 'data.jsonl'))).toEqual(rows);
  });

  it('resumes after SIGKILL at 10+ points with no row generated twice', async () => {
    const dir = tempDir();
    const h = home(dir);
    const slow = await FakeDataModel.start({ latencyMs: 40 });
    try {
      writeFileSync(join(dir, 'design.yaml'), design('', 60).replace(fake.baseUrl, slow.baseUrl));
      // the same design run through once, for comparison
      const through = await agentd(['data', 'design', 'design.yaml', '-o', 'through'], {
        home: h,
        cwd: dir,
      });
      expect(through.code, through.stderr).toBe(0);
      const requestsThrough = slow.requests;
      slow.requests = 0;
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env))
        if (v !== undefined && !/^(ANTHROPIC|OPENAI|AGENTD)_/.test(k)) env[k] = v;
      Object.assign(env, { AGENTD_HOME: h, NO_COLOR: '1' });
      let kills = 0;
      for (let session = 0; session < 12; session++) {
        const outcome = await new Promise<{
          code: number | null;
          signal: NodeJS.Signals | null;
          stderr: string;
        }>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            [join(repoRoot, 'bin', 'agentd.js'), 'data', 'design', 'design.yaml', '-o', 'killed'],
            { cwd: dir, env },
          );
          let stderr = '';
          const guard = setTimeout(() => {
            child.kill('SIGKILL');
            reject(new Error(`session ${session} saw no progress in 60 s: ${stderr}`));
          }, 60_000);
          child.stderr.setEncoding('utf8').on('data', (t: string) => {
            stderr += t;
            // killed as soon as it reports its first row of this session
            if (/rows \(/.test(stderr) && !child.killed) child.kill('SIGKILL');
          });
          child.on('close', (code, signal) => {
            clearTimeout(guard);
            resolve({ code, signal, stderr });
          });
        });
        if (outcome.signal === 'SIGKILL') kills++;
        else {
          expect(outcome.code, outcome.stderr).toBe(0);
          break;
        }
      }
      expect(kills).toBeGreaterThanOrEqual(10);
      const finish = await agentd(['data', 'design', 'design.yaml', '-o', 'killed'], {
        home: h,
        cwd: dir,
      });
      expect(finish.code, finish.stderr).toBe(0);
      expect(finish.stderr).toMatch(/resumed after \d+ rows/);
      // the progress log holds each row once; the dataset is the one the uninterrupted run made
      const logged = jsonl(join(dir, 'killed', '.generation', 'progress.jsonl')).map(
        (o) => o.index as number,
      );
      expect(new Set(logged).size).toBe(logged.length);
      expect(logged.length).toBe(60);
      expect(readFileSync(join(dir, 'killed', 'data.jsonl'), 'utf8')).toBe(
        readFileSync(join(dir, 'through', 'data.jsonl'), 'utf8'),
      );
      // rows in flight at a kill were asked again, nothing else: at most concurrency (4) rows' calls per kill
      expect(slow.requests).toBeGreaterThanOrEqual(requestsThrough);
      expect(slow.requests - requestsThrough).toBeLessThanOrEqual(kills * 4 * 5);
      expect((await agentd(['data', 'verify', 'killed'], { home: h, cwd: dir })).code).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('refuses models whose terms forbid training before calling any', async () => {
    const dir = tempDir();
    const h = join(dir, 'home');
    writeFileSync(join(dir, 'design.yaml'), design());
    const before = fake.requests;
    const unknown = await agentd(['data', 'design', 'design.yaml'], { home: h, cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /^agentd: design\.yaml: models\.gen \(openai-compatible\/fake-data, used by text, info, score\): nobody has said whether its outputs may train models; nothing was called\. Record its terms under model_terms in .*config\.yaml \(distillable, source, as_of\)\n$/,
    );
    writeFileSync(
      join(dir, 'claude.yaml'),
      design().replace(`${FAKE}, base_url: ${fake.baseUrl}`, 'anthropic/claude-sonnet-5-5'),
    );
    const claude = await agentd(['data', 'design', 'claude.yaml'], {
      home: h,
      cwd: dir,
      env: { ANTHROPIC_API_KEY: 'sk-ant-test-000000000000000000' },
    });
    expect(claude.stderr).toMatch(
      /models\.gen \(anthropic\/claude-sonnet-5-5, used by text, info, score\): its terms forbid training on its outputs \(Anthropic's Commercial Terms/,
    );
    expect(fake.requests).toBe(before);
    // for evaluation data the terms do not stop it
    writeFileSync(join(dir, 'eval.yaml'), design().replace('rows: 12', 'rows: 2\nuse: evaluation'));
    const evaluation = await agentd(['data', 'design', 'eval.yaml', '--preview', '2'], {
      home: h,
      cwd: dir,
    });
    expect(evaluation.code, evaluation.stderr).toBe(0);
  });

  it('takes seed columns from JSONL, CSV, Parquet and stored runs, and validates by regex, schema and code', async () => {
    const dir = tempDir();
    const h = home(dir);
    writeFileSync(join(dir, 'a.jsonl'), '{"city":"Oslo"}\n{"city":"Lima"}\n');
    writeFileSync(join(dir, 'b.csv'), 'code,label\nA1,first\nB2,second\n');
    const db = await DuckDBInstance.create(':memory:');
    const connection = await db.connect();
    await connection.run(
      `COPY (SELECT * FROM (VALUES ('red', 1), ('blue', 2)) t(colour, rank)) TO '${join(dir, 'c.parquet')}' (FORMAT parquet)`,
    );
    connection.closeSync();
    db.closeSync();
    const store = new SqliteStore({ path: join(h, 'agentd.db') });
    await store.append(
      handRun({ runId: 'run_seed', task: 'Convert 3 miles.', turns: [{ text: '4.83 km' }] }),
    );
    await store.close();
    writeFileSync(
      join(dir, 'seeds.yaml'),
      `name: seeded
rows: 4
seeds:
  a: { path: a.jsonl }
  b: { path: b.csv }
  c: { path: c.parquet }
  r: { runs: { status: completed } }
columns:
  - { name: city, type: seed, source: a, field: city }
  - { name: code, type: seed, source: b, field: code }
  - { name: colour, type: seed, source: c, field: colour }
  - { name: task, type: seed, source: r, field: task }
  - { name: line, type: expression, template: "{{ city }}/{{ code }}/{{ colour }}: {{ task }}" }
  - { name: code_ok, type: validation, target: code, regex: "^A" }
  - { name: line_ok, type: validation, target: line, code: "grep -q Oslo" }
  - { name: doc, type: expression, template: '{"city": "{{ city }}"}' }
  - { name: doc_ok, type: validation, target: doc, json_schema: { type: object, required: [city] } }
  - { name: p, type: sampler, sampler: person, params: { locale: de_DE } }
  - { name: id, type: sampler, sampler: uuid }
  - { name: when, type: sampler, sampler: datetime, params: { start: 2026-01-01, end: 2026-02-01, unit: day } }
  - { name: g, type: sampler, sampler: gaussian, params: { mean: 10, stddev: 2, decimals: 1 } }
  - { name: b, type: sampler, sampler: bernoulli, params: { p: 0.5 } }
`,
    );
    const made = await agentd(['data', 'design', 'seeds.yaml', '--preview', '4'], {
      home: h,
      cwd: dir,
    });
    expect(made.code, made.stderr).toBe(0);
    const rows = made.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => r.line)).toEqual([
      'Oslo/A1/red: Convert 3 miles.',
      'Lima/B2/blue: Convert 3 miles.',
      'Oslo/A1/red: Convert 3 miles.',
      'Lima/B2/blue: Convert 3 miles.',
    ]);
    expect(rows.map((r) => r.code_ok.valid)).toEqual([true, false, true, false]);
    expect(rows.map((r) => r.line_ok.valid)).toEqual([true, false, true, false]);
    expect(rows[1].line_ok.error).toMatch(/^exit 1/);
    expect(rows.every((r) => r.doc_ok.valid)).toBe(true);
    expect(rows[0].p).toMatchObject({
      locale: 'de_DE',
      first_name: expect.any(String),
      email: expect.stringMatching(/@example\.de$/),
    });
    expect(rows[0].id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(rows[0].when).toMatch(/^2026-01-\d\d$/);
    expect(new Set(rows.map((r) => r.id)).size).toBe(4);
  });

  it('says what is wrong with a design in one line', async () => {
    const dir = tempDir();
    const h = home(dir);
    const bad: [string, RegExp][] = [
      [
        design().replace(
          'prompt: "Say something {{ kind }} about {{ n }}"',
          'prompt: "Say {{ score }}"',
        ),
        /the columns refer to each other in a cycle: text -> score -> text \(a column can only use columns that do not use it\)/,
      ],
      [
        design().replace('{{ n }}"\n  - name: info', '{{ nope }}"\n  - name: info'),
        /columns\[2\] \(text\) refers to "nope", which is not a column \(columns: kind, n, text, info, score\)/,
      ],
      [
        design().replace('model: gen\n    prompt: "Say', 'model: writer\n    prompt: "Say'),
        /columns\[2\] \(text\)\.model: "writer" is not in models: \(gen\)/,
      ],
      [
        design().replace('threshold: { quality: 2 }', 'threshold: { tone: 2 }'),
        /columns\[4\] \(score\)\.threshold\.tone: not one of its rubrics \(quality\)/,
      ],
      [design().replace('sampler: poisson', 'sampler: zipf'), /columns\.1/],
      [design().replace('rows: 12', 'rows: -1'), /rows/],
      [design().replace('{ mean: 4 }', '{ mean: 4, spread: 2 }'), /spread/],
      [
        `${design()}  - { name: v, type: validation, target: n, regex: "a", code: "true" }\n`,
        /columns\[5\] \(v\): a validation has exactly one of json_schema, regex or code/,
      ],
      [
        `${design()}  - { name: v, type: validation, target: n, regex: "(" }\n`,
        /not a regular expression/,
      ],
      [
        `${design()}  - { name: s, type: seed, source: nowhere }\n`,
        /columns\[5\] \(s\)\.source: "nowhere" is not in seeds: \(none defined\)/,
      ],
      [
        design().replace('  gen: {', '  other: { model: scripted/x }\n  gen: {'),
        /models\.other\.script: is required for scripted\/x/,
      ],
    ];
    for (const [text, message] of bad) {
      writeFileSync(join(dir, 'bad.yaml'), text);
      const result = await agentd(['data', 'design', 'bad.yaml'], { home: h, cwd: dir });
      expect(result.code, text).toBe(2);
      expect(result.stderr, text).toMatch(message);
      expect(result.stderr.trim().split('\n'), result.stderr).toHaveLength(1);
    }
    const missing = await agentd(['data', 'design', 'nope.yaml'], { home: h, cwd: dir });
    expect(missing.stderr).toBe('agentd: nope.yaml: design file not found\n');
    writeFileSync(
      join(dir, 'seedless.yaml'),
      'name: s\nrows: 1\nseeds: { a: { path: gone.csv } }\ncolumns:\n  - { name: x, type: seed, source: a }\n',
    );
    expect((await agentd(['data', 'design', 'seedless.yaml'], { home: h, cwd: dir })).stderr).toBe(
      'agentd: gone.csv: seed file not found\n',
    );
    // a stopped generation resumes only with the same design
    writeFileSync(join(dir, 'design.yaml'), design('', 3));
    expect(
      (await agentd(['data', 'design', 'design.yaml', '-o', 'out'], { home: h, cwd: dir })).code,
    ).toBe(0);
    writeFileSync(join(dir, 'design.yaml'), design('', 3).replace('seed: 3', 'seed: 4'));
    const changed = await agentd(['data', 'design', 'design.yaml', '-o', 'out'], {
      home: h,
      cwd: dir,
    });
    expect(changed.stderr).toMatch(
      /out: holds a generation of another version of this design .*--restart discards it/,
    );
    const restarted = await agentd(['data', 'design', 'design.yaml', '-o', 'out', '--restart'], {
      home: h,
      cwd: dir,
    });
    expect(restarted.code, restarted.stderr).toBe(0);
    // a budget stops it, and what was made is kept for the next run
    writeFileSync(
      join(dir, 'budget.yaml'),
      design('', 12).replace('concurrency: 4', 'concurrency: 1\nbudget: { max_tokens: 60 }'),
    );
    const budget = await agentd(['data', 'design', 'budget.yaml', '-o', 'b'], {
      home: h,
      cwd: dir,
    });
    expect(budget.code).toBe(1);
    expect(budget.stderr).toMatch(
      /stopped at the budget: \d+ of 12 rows, \d+ tokens, \$[\d.]+; raise budget in budget\.yaml and run again to continue/,
    );
    expect(existsSync(join(dir, 'b', 'data.jsonl'))).toBe(false);
  });
});
