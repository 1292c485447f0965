import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { loadDataset } from '../../src/evals/dataset.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { handRun } from '../evals/events.ts';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';
import {
  hfChatSchema,
  openaiChatSchema,
  openaiPreferenceSchema,
  trlPreferenceSchema,
} from './format-schemas.ts';

const QWEN = 'openai-compatible/qwen3:8b';
const CLAUDE = 'anthropic/claude-sonnet-4-5';
const LOCAL = 'openai-compatible/team-local-7b';
const TASK = 'Convert 10 miles to km.';

const ajv = new Ajv({ strict: false, allErrors: true });

function validate(schema: object, rows: unknown[]): void {
  const check = ajv.compile(schema);
  for (const [i, row] of rows.entries()) {
    expect(check(row), `row ${i + 1}: ${ajv.errorsText(check.errors)}`).toBe(true);
  }
}

function jsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** A store with runs by models of every kind of terms. */
async function seed(home: string, extra: RunEvent[][] = []): Promise<void> {
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  const runs = [
    handRun({
      runId: 'run_good',
      agent: 'converter',
      at: '2026-11-01T10:00:00Z',
      task: TASK,
      turns: [
        {
          model: QWEN,
          text: 'Converting.',
          calls: [
            { name: 'convert', input: { value: 10, from: 'mi', to: 'km' }, output: '16.09 km' },
          ],
        },
        { model: QWEN, text: '10 miles is 16.09 km.' },
      ],
    }),
    handRun({
      runId: 'run_bad',
      agent: 'converter',
      at: '2026-11-01T11:00:00Z',
      task: TASK,
      status: 'failed',
      turns: [
        {
          model: QWEN,
          text: 'I cannot.',
          calls: [{ name: 'convert', input: { value: 'ten' }, output: 'invalid', isError: true }],
        },
      ],
    }),
    handRun({
      runId: 'run_claude',
      agent: 'converter',
      at: '2026-11-01T12:00:00Z',
      task: 'Convert 5 miles to km.',
      turns: [
        { model: QWEN, text: 'Let me see.' },
        { model: CLAUDE, text: '5 miles is 8.05 km.' },
      ],
    }),
    handRun({
      runId: 'run_local',
      agent: 'writer',
      at: '2026-11-01T13:00:00Z',
      task: 'Write a haiku.',
      turns: [{ model: LOCAL, text: 'Autumn moon rises' }],
    }),
    ...extra,
  ];
  for (const run of runs) await store.append(run);
  await store.close();
}

describe('agentd data export', { timeout: 300_000 }, () => {
  it('writes OpenAI SFT rows with lineage, refuses non-distillable turns, and verifies', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    await seed(home);
    const out = join(dir, 'sft');
    const made = await agentd(
      ['data', 'export', 'sft', '-o', out, '--filter', 'status=completed,failed'],
      { home },
    );
    expect(made.code, made.stderr).toBe(0);
    // the run with a Claude turn is refused and named, with the terms that refuse it
    expect(made.stderr).toMatch(
      /refused run run_claude: anthropic\/claude-sonnet-4-5 \(Anthropic's Commercial Terms forbid/,
    );
    expect(made.stderr).toMatch(
      /flagged 1 row\(s\) from models whose terms are unknown: openai-compatible\/team-local-7b/,
    );
    const rows = jsonl(join(out, 'data.jsonl'));
    validate(openaiChatSchema, rows);
    expect(rows).toHaveLength(3);
    const good = rows.find((r) => JSON.stringify(r).includes('16.09 km.'))!;
    expect(good.messages).toEqual([
      { role: 'system', content: 'Use the tools; answer briefly.' },
      { role: 'user', content: TASK },
      {
        role: 'assistant',
        content: 'Converting.',
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'convert', arguments: '{"value":10,"from":"mi","to":"km"}' },
          },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '16.09 km' },
      { role: 'assistant', content: '10 miles is 16.09 km.' },
    ]);
    expect(good.tools).toEqual([
      { type: 'function', function: { name: 'convert', description: 'the convert tool' } },
      { type: 'function', function: { name: 'list_units', description: 'the list_units tool' } },
    ]);
    const lineage = jsonl(join(out, 'lineage.jsonl'));
    expect(lineage).toHaveLength(3);
    const goodLineage = lineage.find((l) => l.runId === 'run_good')!;
    expect(goodLineage).toMatchObject({
      runId: 'run_good',
      events: [0, 7],
      turns: [
        { seq: 2, model: QWEN },
        { seq: 6, model: QWEN },
      ],
      models: [{ model: QWEN, provider: 'openai-compatible', distillable: 'yes' }],
      policies: [],
    });
    expect(lineage.some((l) => l.runId === 'run_claude')).toBe(false);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({
      origin: 'runs',
      kind: 'sft',
      format: 'openai',
      intendedUse: 'training',
      agentdVersion: '0.1.0',
      counts: { runsRead: 4, rows: 3, refusedRuns: 1 },
      overrides: [],
      flagged: { unknownTermsRows: 1, models: [LOCAL] },
    });
    expect(
      manifest.models.map((m: { model: string; distillable: string }) => [m.model, m.distillable]),
    ).toEqual([
      [QWEN, 'yes'],
      [LOCAL, 'unknown'],
    ]);
    expect(manifest.models[0]).toMatchObject({
      origin: 'catalog',
      asOf: '2026-11-22',
      rows: 2,
      turns: 3,
    });
    expect(readFileSync(join(out, 'DATASET.md'), 'utf8')).toContain(
      '| openai-compatible/qwen3:8b | 2 | yes |',
    );

    const verified = await agentd(['data', 'verify', out], { home });
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/✓ 3 rows match their hashes and the manifest/);

    // one edited row is found, by its line
    const lines = readFileSync(join(out, 'data.jsonl'), 'utf8').split('\n');
    lines[1] = lines[1]!.replace('I cannot.', 'I can.');
    writeFileSync(join(out, 'data.jsonl'), lines.join('\n'));
    const edited = await agentd(['data', 'verify', out], { home });
    expect(edited.code).toBe(1);
    expect(edited.stderr).toMatch(/data\.jsonl: changed since the export/);
    expect(edited.stderr).toMatch(
      /data\.jsonl:2: row edited \(sha256 [0-9a-f]{12}…, the lineage has [0-9a-f]{12}…\)/,
    );
    expect(edited.stderr).not.toMatch(/data\.jsonl:[13]:/);
  });

  it('keeps a refused model with --allow-terms, recorded; config.yaml terms override the catalog', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    await seed(home);
    const out = join(dir, 'allowed');
    const made = await agentd(
      [
        'data',
        'export',
        'sft',
        '-o',
        out,
        '--format',
        'hf',
        '--allow-terms',
        CLAUDE,
        '--allow-reason',
        'contract 2026-114',
      ],
      { home },
    );
    expect(made.code, made.stderr).toBe(0);
    const rows = jsonl(join(out, 'data.jsonl'));
    validate(hfChatSchema, rows);
    const claude = rows.find((r) => JSON.stringify(r).includes('8.05 km'))!;
    expect((claude.messages as unknown[]).at(-1)).toEqual({
      role: 'assistant',
      content: '5 miles is 8.05 km.',
    });
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.overrides).toEqual([
      {
        model: CLAUDE,
        distillable: 'no',
        by: expect.any(String),
        at: expect.any(String),
        reason: 'contract 2026-114',
      },
    ]);
    const lineage = jsonl(join(out, 'lineage.jsonl')).find((l) => l.runId === 'run_claude')!;
    expect(lineage.models).toContainEqual({
      model: CLAUDE,
      provider: 'anthropic',
      distillable: 'no',
      overridden: true,
    });
    expect((await agentd(['data', 'verify', out], { home })).code).toBe(0);
    // the override taken out of the manifest: verify names the row
    writeFileSync(join(out, 'manifest.json'), JSON.stringify({ ...manifest, overrides: [] }));
    const tampered = await agentd(['data', 'verify', out], { home });
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(
      /row \d has text from anthropic\/claude-sonnet-4-5, whose terms forbid training, and the manifest records no override/,
    );

    // a team's contract in config.yaml: the local model may be trained on, qwen may not
    writeFileSync(
      join(home, 'config.yaml'),
      `model_terms:
  "openai-compatible/team-*": { distillable: "yes", source: "our own weights (MODEL_LICENSE.md)", as_of: "2026-12-01" }
  "${QWEN}": { distillable: "no", source: "contract 2026-7", as_of: "2026-12-01", note: "not for training" }
`,
    );
    const out2 = join(dir, 'contract');
    const second = await agentd(['data', 'export', 'sft', '-o', out2, '--refuse-unknown'], {
      home,
    });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(
      /refused run run_good: openai-compatible\/qwen3:8b \(not for training\)/,
    );
    const m2 = JSON.parse(readFileSync(join(out2, 'manifest.json'), 'utf8'));
    expect(m2.models).toEqual([
      expect.objectContaining({
        model: LOCAL,
        distillable: 'yes',
        origin: 'config',
        source: 'our own weights (MODEL_LICENSE.md)',
        asOf: '2026-12-01',
      }),
    ]);
    const models = await agentd(['models', '--provider', 'openai-compatible'], { home });
    expect(models.stdout).toMatch(
      /openai-compatible\/qwen3:8b .* no +contract 2026-7 2026-12-01\n/,
    );
  });

  it('pairs runs of one task into preferences and writes eval cases', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    await seed(home);
    const pref = join(dir, 'pref');
    const made = await agentd(
      ['data', 'export', 'preference', '-o', pref, '--filter', 'status=completed,failed'],
      { home },
    );
    expect(made.code, made.stderr).toBe(0);
    const [pair, ...more] = jsonl(join(pref, 'data.jsonl'));
    expect(more).toHaveLength(0);
    validate(openaiPreferenceSchema, [pair]);
    expect(pair).toMatchObject({
      preferred_output: [{ role: 'assistant', content: '10 miles is 16.09 km.' }],
      non_preferred_output: [{ role: 'assistant', content: 'I cannot.' }],
    });
    const [lineage] = jsonl(join(pref, 'lineage.jsonl'));
    expect(lineage).toMatchObject({
      chosen: { runId: 'run_good', score: 1 },
      rejected: { runId: 'run_bad', score: 0 },
    });

    const trl = join(dir, 'trl');
    expect(
      (
        await agentd(
          [
            'data',
            'export',
            'preference',
            '-o',
            trl,
            '--format',
            'hf',
            '--filter',
            'status=completed,failed',
          ],
          { home },
        )
      ).code,
    ).toBe(0);
    validate(trlPreferenceSchema, jsonl(join(trl, 'data.jsonl')));

    const cases = join(dir, 'cases');
    const evalMade = await agentd(
      ['data', 'export', 'eval', '-o', cases, '--filter', 'agent=converter'],
      { home },
    );
    expect(evalMade.code, evalMade.stderr).toBe(0);
    const loaded = loadDataset(join(cases, 'data.jsonl'));
    expect(loaded.map((c) => c.id).sort()).toEqual(['run_claude', 'run_good']);
    expect(loaded.find((c) => c.id === 'run_good')).toMatchObject({
      input: TASK,
      expectedResponse: '10 miles is 16.09 km.',
      expectedTrajectory: [{ tool: 'convert', input: { value: 10, from: 'mi', to: 'km' } }],
    });
    // evaluation data is not training data: the terms are recorded, nothing is refused
    expect(JSON.parse(readFileSync(join(cases, 'manifest.json'), 'utf8'))).toMatchObject({
      intendedUse: 'evaluation',
      counts: { rows: 2, refusedRuns: 0 },
    });
  });

  it('fails loudly when a row would carry a key, and writes nothing', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    await seed(home, [
      handRun({
        runId: 'run_leak',
        task: 'Read the deploy notes.',
        turns: [
          {
            model: QWEN,
            text: 'Reading.',
            calls: [{ name: 'read', output: 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE' }],
          },
          { model: QWEN, text: 'Done.' },
        ],
      }),
    ]);
    const out = join(dir, 'leak');
    const made = await agentd(['data', 'export', 'sft', '-o', out], { home });
    expect(made.code).toBe(2);
    expect(made.stderr).toContain(
      'agentd: run run_leak (events 0–7): the row would contain an AWS access key id (AKIAIO************); nothing was written. Remove the text from its source (or leave the run out) and export again\n',
    );
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    // a credential from the environment, found wherever it is
    const env = await agentd(
      ['data', 'export', 'sft', '-o', join(dir, 'env'), '--exclude', 'run_leak'],
      {
        home,
        env: { DEPLOY_TOKEN: 'converting-secret' },
      },
    );
    expect(env.code, env.stderr).toBe(0);
    const envLeak = await agentd(
      ['data', 'export', 'sft', '-o', join(dir, 'env2'), '--exclude', 'run_leak'],
      {
        home,
        env: { DEPLOY_TOKEN: '16.09 km' },
      },
    );
    expect(envLeak.code).toBe(2);
    expect(envLeak.stderr).toMatch(
      /the row would contain a credential set in the environment \(16\.09 \*+\)/,
    );
  });

  it('selects runs by tag: every --tag must match; the lineage and manifest say so', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    const env = { AGENTD_USER: 'curator' };
    await seed(home);
    for (const [run, ...tags] of [
      ['run_good', 'dataset=v1', 'reviewed'],
      ['run_bad', 'dataset=v1'],
      ['run_local', 'reviewed'],
    ] as const) {
      const tagged = await agentd(['runs', 'tag', run, ...tags], { home, env });
      expect(tagged.code, tagged.stderr).toBe(0);
    }
    const filter = ['--filter', 'status=completed,failed'];
    const both = join(dir, 'both');
    const made = await agentd(
      ['data', 'export', 'sft', '-o', both, ...filter, '--tag', 'dataset=v1', '--tag', 'reviewed'],
      { home, env },
    );
    expect(made.code, made.stderr).toBe(0);
    const lineage = jsonl(join(both, 'lineage.jsonl'));
    expect(lineage.map((l) => l.runId)).toEqual(['run_good']);
    expect(lineage[0]).toMatchObject({ tags: ['dataset=v1', 'reviewed'] });
    const manifest = JSON.parse(readFileSync(join(both, 'manifest.json'), 'utf8'));
    expect(manifest.selection).toMatchObject({ tags: ['dataset=v1', 'reviewed'] });
    expect((await agentd(['data', 'verify', both], { home })).code).toBe(0);

    const one = join(dir, 'one');
    const v1 = await agentd(
      ['data', 'export', 'sft', '-o', one, ...filter, '--tag', 'dataset=v1'],
      {
        home,
        env,
      },
    );
    expect(v1.code, v1.stderr).toBe(0);
    expect(
      jsonl(join(one, 'lineage.jsonl'))
        .map((l) => l.runId)
        .sort(),
    ).toEqual(['run_bad', 'run_good']);
    // a tag taken off leaves the run out of the next export
    await agentd(['runs', 'untag', 'run_bad', 'dataset=v1'], { home, env });
    const after = join(dir, 'after');
    await agentd(['data', 'export', 'sft', '-o', after, ...filter, '--tag', 'dataset=v1'], {
      home,
      env,
    });
    expect(jsonl(join(after, 'lineage.jsonl')).map((l) => l.runId)).toEqual(['run_good']);
  });

  it('says what is wrong with bad input in one line', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    const none = await agentd(['data', 'export', 'sft', '-o', join(dir, 'x')], { home });
    expect(none.stderr).toMatch(
      /^agentd: nothing to export: no runs are stored in .*agentd\.db yet \(agentd run records them\)\n$/,
    );
    await seed(home);
    const cases: [string[], RegExp][] = [
      [['data', 'export', 'sft'], /required option '-o, --out <dir>' not specified/],
      [
        ['data', 'export', 'csv', '-o', 'x'],
        /command-argument value 'csv' is invalid for argument 'kind'\. "csv" is not one of sft, preference, eval/,
      ],
      [
        ['data', 'export', 'sft', '-o', 'x', '--format', 'alpaca'],
        /"alpaca" is not one of openai, hf/,
      ],
      [
        ['data', 'export', 'sft', '-o', 'x', '--filter', 'colour=red'],
        /--filter "colour=red": write key=value with key one of/,
      ],
      [['data', 'export', 'sft', '-o', 'x', '--min-score', '2'], /"2" is not a score from 0 to 1/],
      [
        ['data', 'export', 'sft', '-o', 'x', '--tag', 'team search'],
        /--tag: tag "team search" has " " \(a tag is 1 to 64 of/,
      ],
      [
        ['data', 'export', 'sft', '-o', join(dir, 't'), '--tag', 'nobody=tagged'],
        /nothing to export: no stored run matches the selection/,
      ],
      [
        ['data', 'export', 'sft', '-o', 'x', '--allow-terms', 'claude'],
        /--allow-terms "claude": write provider\/model-id/,
      ],
      [
        ['data', 'export', 'sft', '-o', join(dir, 'y'), '--filter', 'agent=nobody'],
        /nothing to export: no stored run matches the selection/,
      ],
      [
        [
          'data',
          'export',
          'sft',
          '-o',
          join(dir, 'z'),
          '--filter',
          'agent=converter',
          '--filter',
          'task=5 miles',
        ],
        /nothing to export: every matching run was refused for its models' terms \(anthropic\/claude-sonnet-4-5\)/,
      ],
      [
        ['data', 'verify', dir],
        /manifest\.json: no manifest \(agentd data export and agentd data design write one beside the data\)/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await agentd(args, { home, cwd: dir });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
      // one line says what is wrong (a refused run is named on a line of its own before it)
      const said = result.stderr.split('\n').filter((l) => /^(agentd|error):/.test(l));
      expect(said, args.join(' ')).toHaveLength(1);
      expect(result.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
    }
    writeFileSync(join(dir, 'y', 'keep.txt'), 'x');
    const full = await agentd(['data', 'export', 'sft', '-o', join(dir, 'y')], { home });
    expect(full.stderr).toMatch(/y: the folder is not empty; give -o a new folder/);
    writeFileSync(
      join(home, 'config.yaml'),
      'model_terms:\n  "qwen": { distillable: maybe, source: x, as_of: today }\n',
    );
    const bad = await agentd(['data', 'export', 'sft', '-o', join(dir, 'w')], { home });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/config\.yaml.*model_terms/);
  });

  it('reads which models may be distilled from an OpenRouter-style API, and exports by it', async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(`${req.url} ${req.headers.authorization ?? ''}`);
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/api/v1/models') {
        res.writeHead(404).end();
        return;
      }
      const distillable = url.searchParams.get('distillable');
      const data =
        distillable === 'true'
          ? [{ id: 'open/weights-8b' }]
          : distillable === 'false'
            ? [{ id: 'closed/pro' }]
            : [];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
    try {
      const refreshed = await agentd(['models', '--refresh-terms', base], {
        home,
        env: { OPENAI_COMPATIBLE_API_KEY: 'sk-or-v1-test' },
      });
      expect(refreshed.code, refreshed.stderr).toBe(0);
      expect(refreshed.stdout).toMatch(
        /: 1 model distillable, 1 not, kept in .*provider-terms\.json as openai-compatible\/<id>/,
      );
      expect(asked).toEqual([
        `/api/v1/models?distillable=true Bearer sk-or-v1-test`,
        `/api/v1/models?distillable=false Bearer sk-or-v1-test`,
      ]);
      const listed = await agentd(['models', '--provider', 'openai-compatible'], { home });
      expect(listed.stdout).toMatch(
        /openai-compatible\/open\/weights-8b +yes +http:\/\/127\.0\.0\.1:\d+\/api\/v1\/models\?distillable=true +\d{4}-\d\d-\d\d/,
      );
      const store = new SqliteStore({ path: join(home, 'agentd.db') });
      await store.append(
        handRun({
          runId: 'run_open',
          turns: [{ model: 'openai-compatible/open/weights-8b', text: 'ok' }],
        }),
      );
      await store.append(
        handRun({
          runId: 'run_closed',
          turns: [{ model: 'openai-compatible/closed/pro', text: 'no' }],
        }),
      );
      await store.close();
      const out = join(dir, 'out');
      const made = await agentd(['data', 'export', 'sft', '-o', out], { home });
      expect(made.code, made.stderr).toBe(0);
      expect(made.stderr).toMatch(
        /refused run run_closed: openai-compatible\/closed\/pro \(the provider's API lists the model as not distillable\)/,
      );
      const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      expect(manifest.models).toEqual([
        expect.objectContaining({
          model: 'openai-compatible/open/weights-8b',
          distillable: 'yes',
          origin: 'provider',
        }),
      ]);
      const down = await agentd(['models', '--refresh-terms', `${base}/nothing`], { home });
      expect(down.code).toBe(2);
      expect(down.stderr).toMatch(
        /^agentd: http:.*\/nothing\/models\?distillable=true: HTTP 404 \(the endpoint lists no models there\)\n$/,
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("exports the example agents' runs as a verified SFT dataset, offline", async () => {
    const dir = tempDir();
    const home = join(dir, 'home');
    for (const [spec, task] of [
      ['examples/unit-converter/agent.yaml', 'A marathon in km?'],
      ['examples/repo-inspector/agent.yaml', 'How big is this repository?'],
    ] as const) {
      const run = await agentd(['run', spec, task], { home });
      expect(run.code, run.stderr).toBe(0);
    }
    const out = join(dir, 'sft');
    const made = await agentd(['data', 'export', 'sft', '-o', out, '--filter', 'since=1d'], {
      home,
    });
    expect(made.code, made.stderr).toBe(0);
    const rows = jsonl(join(out, 'data.jsonl'));
    expect(rows).toHaveLength(2);
    validate(openaiChatSchema, rows);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(
      manifest.models
        .map((m: { model: string; distillable: string }) => `${m.model}: ${m.distillable}`)
        .sort(),
    ).toEqual(['scripted/repo-inspector: yes', 'scripted/unit-converter: yes']);
    expect((await agentd(['data', 'verify', out], { home })).code).toBe(0);
  });
});
