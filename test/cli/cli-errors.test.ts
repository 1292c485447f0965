import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

/** One line on stderr, no stack trace, a non-zero exit. */
function expectOneLineError(
  result: { code: number | null; stderr: string; stdout: string },
  pattern: RegExp,
) {
  expect(result.code, result.stderr).not.toBe(0);
  expect(result.code).not.toBeNull();
  const lines = result.stderr.trim().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(result.stderr).not.toContain('internal error');
}

function spec(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const good = `name: t
model: anthropic/claude-sonnet-4-5
instructions: hi
`;

describe('CLI bad input', () => {
  const cases: [string, string, RegExp][] = [
    [
      'malformed YAML',
      'name: t\nmodel: [anthropic\n',
      /^agentd: .*bad\.yaml:\d+:\d+: invalid YAML: /,
    ],
    [
      'unknown provider',
      'name: t\nmodel: antropic/claude-sonnet-4-5\n',
      /^agentd: .*bad\.yaml: model: unknown provider "antropic" \(known: anthropic, openai, openai-compatible, ollama, local, scripted\)$/,
    ],
    [
      'model without id',
      'name: t\nmodel: openai\n',
      /bad\.yaml: model: "openai" has no model id \(write provider\/model-id, e\.g\. openai\/gpt-5\)$/,
    ],
    ['missing model', 'name: t\n', /bad\.yaml: model: is required \(expected string\)$/],
    [
      'wrong type',
      `${good}limits:\n  max_turns: ten\n`,
      /bad\.yaml: limits\.max_turns: expected (int|number), got "ten"$/,
    ],
    ['unknown field', `${good}temprature: 0.2\n`, /bad\.yaml: unknown field "temprature"$/],
    [
      'bad duration',
      `${good}limits:\n  max_time: ten minutes\n`,
      /bad\.yaml: limits\.max_time: "ten minutes" is not a duration \(write e\.g\. 90s, 30m, 2h, or a number of seconds\)$/,
    ],
    [
      'bad effort',
      `${good}effort: extreme\n`,
      /bad\.yaml: effort: "extreme" is not allowed \(use one of: minimal, low, medium, high, xhigh, max\)$/,
    ],
    [
      'bad compaction threshold',
      `${good}compaction:\n  threshold: 1.5\n`,
      /bad\.yaml: compaction\.threshold: .*(got 1\.5)/,
    ],
    [
      'bad enum',
      `${good.replace('anthropic/claude-sonnet-4-5', 'openai/gpt-5')}provider:\n  api: completions\n`,
      /bad\.yaml: provider\.api: "completions" is not allowed \(use one of: responses, chat\)$/,
    ],
    [
      'scripted without script',
      'name: t\nmodel: scripted/demo\n',
      /bad\.yaml: script: is required when model is "scripted\/demo"/,
    ],
    [
      'missing API key',
      good,
      /^agentd: ANTHROPIC_API_KEY is not set: export ANTHROPIC_API_KEY=\.\.\. .*to use anthropic\/claude-sonnet-4-5$/,
    ],
    [
      'openai-compatible without a base URL',
      'name: t\nmodel: openai-compatible/qwen3:8b\n',
      /needs a base URL and no server on 127\.0\.0\.1 serves it: set provider\.base_url in the spec .* or OPENAI_COMPATIBLE_BASE_URL \(`agentd models --local` shows what runs here\)$/,
    ],
    [
      'missing tool module',
      'name: t\nmodel: scripted/x\nscript: s.yaml\ntools:\n  - module: ./nope.ts\n',
      /bad\.yaml: tools: module .*nope\.ts not found \(paths are relative to the spec file\)$/,
    ],
    [
      'unknown tool in only',
      'name: t\nmodel: scripted/x\nscript: s.yaml\ntools:\n  - module: ./tools.ts\n    only: [nothere]\n',
      /tools: .*tools\.ts has no tool "nothere" \(it has: echo\)$/,
    ],
    [
      'tool module that throws on import',
      'name: t\nmodel: scripted/x\nscript: s.yaml\ntools:\n  - module: ./throws.ts\n',
      /tools: cannot load .*throws\.ts: kaboom$/,
    ],
    [
      'tool module using import in a CommonJS package',
      'name: t\nmodel: scripted/x\nscript: s.yaml\ntools:\n  - module: ./cjs/tools.ts\n',
      /tools: .*cjs\/tools\.ts uses import, but .*cjs\/package\.json says "type": "commonjs": set "type": "module" there, or name the file \.mts$/,
    ],
    [
      'malformed script',
      'name: t\nmodel: scripted/x\nscript: broken-script.yaml\n',
      /broken-script\.yaml: turns\.0\.tool_calls\.0\.name: is required/,
    ],
  ];

  it.each(cases)('%s', async (_, text, pattern) => {
    const dir = tempDir();
    writeFileSync(join(dir, 's.yaml'), 'turns:\n  - text: hi\n');
    writeFileSync(join(dir, 'broken-script.yaml'), 'turns:\n  - tool_calls:\n      - input: {}\n');
    writeFileSync(
      join(dir, 'tools.ts'),
      `import { defineTool, z } from ${JSON.stringify(`${repoRoot}src/index.ts`)};\nexport const echo = defineTool({ name: 'echo', description: 'e', input: z.object({}), execute: () => 'x' });\n`,
    );
    writeFileSync(join(dir, 'throws.ts'), `throw new Error('kaboom');\n`);
    mkdirSync(join(dir, 'cjs'));
    writeFileSync(join(dir, 'cjs', 'package.json'), '{ "type": "commonjs" }\n');
    writeFileSync(
      join(dir, 'cjs', 'tools.ts'),
      `import { z } from 'agentd';\nexport const x = z;\n`,
    );
    const path = spec(dir, 'bad.yaml', text);
    expectOneLineError(await agentd(['run', path, 'task'], { home: join(dir, 'home') }), pattern);
  });

  it('a spec that does not exist', async () => {
    const dir = tempDir();
    expectOneLineError(
      await agentd(['run', join(dir, 'missing.yaml'), 'task'], { home: dir }),
      /missing\.yaml: agent spec not found \(give the path to an agent YAML file/,
    );
  });

  it('an empty task', async () => {
    const dir = tempDir();
    expectOneLineError(
      await agentd(['run', 'examples/unit-converter/agent.yaml', '  '], { home: dir }),
      /the task is empty/,
    );
  });

  it('a bad --model and --max-turns', async () => {
    const dir = tempDir();
    expectOneLineError(
      await agentd(['run', 'examples/unit-converter/agent.yaml', 'x', '--model', 'gpt-5'], {
        home: dir,
      }),
      /--model: "gpt-5" is not provider\/model-id/,
    );
    const turns = await agentd(
      ['run', 'examples/unit-converter/agent.yaml', 'x', '--max-turns', 'lots'],
      { home: dir },
    );
    expect(turns.code).toBe(2);
    expect(turns.stderr).toMatch(
      /--max-turns <n>' argument 'lots' is invalid\. "lots" is not a positive whole number/,
    );
    expect(turns.stderr).not.toMatch(/\n\s+at /);
  });

  it('an unknown run id', async () => {
    const dir = tempDir();
    expectOneLineError(
      await agentd(['runs', 'show', 'run_nope'], { home: dir }),
      /no run "run_nope" .*agentd runs list/,
    );
    expectOneLineError(
      await agentd(['runs', 'export', 'run_nope'], { home: dir }),
      /no run "run_nope"/,
    );
  });

  it('an invalid config file and durability setting', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'home'));
    writeFileSync(join(dir, 'home', 'config.yaml'), 'providers:\n  anthropic:\n    api_kee: x\n');
    expectOneLineError(
      await agentd(['runs', 'list'], { home: join(dir, 'home') }),
      /config\.yaml: providers\.anthropic: unknown field "api_kee"$/,
    );
    expectOneLineError(
      await agentd(['runs', 'list'], { home: dir, env: { AGENTD_DURABILITY: 'disk' } }),
      /AGENTD_DURABILITY: "disk" is not a durability level \(use process or machine\)/,
    );
  });

  it('an unknown command or missing argument', async () => {
    const dir = tempDir();
    const unknown = await agentd(['runn'], { home: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'runn'/);
    const missing = await agentd(['run'], { home: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing required argument 'agent.yaml'/);
  });
});
