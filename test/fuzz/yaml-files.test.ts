import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { isAgentdError } from '../../src/core/errors.ts';
import { parseAgentSpec } from '../../src/definition/agent-spec.ts';
import { loadJudgeScript } from '../../src/evals/judge.ts';
import { loadSuite } from '../../src/evals/suite.ts';
import { loadExtractionScript } from '../../src/memory/scripted-extractor.ts';
import { loadScript } from '../../src/models/scripted-model.ts';
import { parseTeamSpec } from '../../src/teams/team-spec.ts';
import { entryFromServerJson } from '../../src/tools/registry/server-json.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

/**
 * Every YAML file agentd reads, fed random and hostile YAML: alias bombs, huge scalars, deep
 * nesting, tags, duplicate keys, BOMs, NULs, invalid UTF-8 (as readFileSync decodes it), and
 * valid files with hostile pieces spliced in. Property: each ends in a valid result or an
 * AgentdError of one line, never another error (an internal error to a user) or a hang. A
 * bounded budget runs with the suite (AGENTD_FUZZ_RUNS per file kind for more; AGENTD_FUZZ_SEED
 * replays a failure fast-check reported). Seeds that failed are kept in `regressions` below.
 */
const runs = Number(process.env.AGENTD_FUZZ_RUNS ?? 60);
// A fixed seed by default, so the suite gives the same answer every time; AGENTD_FUZZ_SEED picks
// another (any number) to explore further.
const seed = process.env.AGENTD_FUZZ_SEED ? Number(process.env.AGENTD_FUZZ_SEED) : 20261207;

function aliasBomb(levels: number, width: number): string {
  const lines = ['a0: &a0 [x]'];
  for (let i = 1; i <= levels; i++) {
    lines.push(`a${i}: &a${i} [${Array.from({ length: width }, () => `*a${i - 1}`).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

/** Pieces of hostile YAML. */
const hostile: fc.Arbitrary<string> = fc.oneof(
  fc
    .record({ levels: fc.integer({ min: 2, max: 12 }), width: fc.integer({ min: 2, max: 12 }) })
    .map(({ levels, width }) => aliasBomb(levels, width)),
  fc.constantFrom('*nowhere', '&a [*a]', 'x: &a\n  y: *a\n', '<<: *missing\n', '<<: [1, 2]\n'),
  fc.integer({ min: 100, max: 20_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  fc
    .integer({ min: 100, max: 5_000 })
    .map((depth) => `${'{a: '.repeat(depth)}1${'}'.repeat(depth)}`),
  fc
    .integer({ min: 50, max: 2_000 })
    .map((depth) => Array.from({ length: depth }, (_, i) => `${'  '.repeat(i)}- `).join('\n')),
  fc.integer({ min: 100_000, max: 3_000_000 }).map((n) => `name: ${'a'.repeat(n)}\n`),
  fc.constantFrom(
    '!!js/function "function(){}"',
    '!!python/object:os.system ["id"]',
    '!!binary aGVsbG8=',
    '!custom {a: 1}',
    '!!set {a, b}',
    '!!omap [a: 1]',
    '!!timestamp 2001-12-14',
    '!<tag:yaml.org,2002:str> x',
    '%YAML 1.1\n---\nx: 1',
    '%TAG ! tag:evil.com,2000:\n---\n!x 1',
    'name: a\nname: b\n',
    'a: 1\n? a\n: 2\n',
    '\uFEFFname: bom\n',
    'name: "nul\u0000inside"\n',
    '\u0000\u0000\u0000',
    'name: \uD800\n',
    '---\n---\n---\n',
    '--- !!str\n...\n--- 2\n',
    '? [a, b]\n: c\n',
    '[1, 2]: x\n',
    'model: 0x1F\n',
    'model: .inf\n',
    'instructions: |9\n  x\n',
    '\t- tab',
    "'unterminated",
    '"unterminated',
    '{',
    'a: b: c',
  ),
  fc
    .uint8Array({ minLength: 1, maxLength: 200 })
    .map((bytes) => Buffer.from(bytes).toString('utf8')),
  fc.string({
    unit: fc.constantFrom(...':-&*![]{}"\'#|>%@`,? \t\n\r\u0000\uFEFFaZ09'.split('')),
    maxLength: 300,
  }),
);

/** A valid file of a kind, or hostile YAML, or the file with a hostile piece spliced in. */
function texts(valid: string): fc.Arbitrary<string> {
  return fc.oneof(
    hostile,
    fc
      .tuple(hostile, fc.nat({ max: valid.length }))
      .map(([piece, at]) => valid.slice(0, at) + piece + valid.slice(at)),
    fc
      .tuple(hostile, fc.constantFrom(...valid.split('\n').map((_, i) => i)))
      .map(([piece, line]) => {
        const lines = valid.split('\n');
        lines[line] = `${lines[line]!.replace(/:.*$/, ':')} ${piece.split('\n')[0]}`;
        return lines.join('\n');
      }),
  );
}

/** Loads `text` as one kind of file; returns nothing on success. */
type Loader = (text: string, dir: string) => Promise<unknown> | unknown;

function write(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const kinds: Record<string, { valid: string; load: Loader }> = {
  'agent spec': {
    valid: readFileSync(join(repoRoot, 'examples/unit-converter/agent.yaml'), 'utf8'),
    load: (text, dir) => parseAgentSpec(join(dir, 'agent.yaml'), text),
  },
  'team spec': {
    valid: readFileSync(join(repoRoot, 'examples/team/team.yaml'), 'utf8'),
    load: (text) =>
      parseTeamSpec(join(repoRoot, 'examples/team/fuzzed.yaml'), text, {
        home: repoRoot,
        agentDirs: [],
      }),
  },
  'eval suite': {
    valid: readFileSync(join(repoRoot, 'examples/evals/suite.yaml'), 'utf8'),
    load: (text, dir) => {
      // beside the example's dataset and checks, as the example suite is
      cpSync(join(repoRoot, 'examples/evals'), dir, { recursive: true, force: false });
      return loadSuite(write(dir, 'suite.yaml', text), loadConfig({ AGENTD_HOME: dir }), {
        agents: false,
      });
    },
  },
  'scripted model': {
    valid: readFileSync(join(repoRoot, 'examples/unit-converter/script.yaml'), 'utf8'),
    load: (text, dir) => loadScript(write(dir, 'script.yaml', text)),
  },
  'judge script': {
    valid: readFileSync(join(repoRoot, 'examples/evals/judge.yaml'), 'utf8'),
    load: (text, dir) => loadJudgeScript(write(dir, 'judge.yaml', text)),
  },
  'extraction script': {
    valid: readFileSync(join(repoRoot, 'examples/memory-assistant/extraction.yaml'), 'utf8'),
    load: (text, dir) => loadExtractionScript(write(dir, 'extraction.yaml', text)),
  },
  'config.yaml': {
    valid:
      'durability: process\nagent_dirs: [agents]\nproviders:\n  openai:\n    base_url: http://127.0.0.1:1/v1\n',
    load: (text, dir) => {
      write(dir, 'config.yaml', text);
      return loadConfig({ AGENTD_HOME: dir });
    },
  },
  'server.json': {
    valid: JSON.stringify({
      name: 'io.example/tiny',
      description: 'A tiny server',
      version: '1.0.0',
      packages: [
        {
          registryType: 'npm',
          identifier: 'tiny-mcp',
          version: '1.0.0',
          transport: { type: 'stdio' },
        },
      ],
    }),
    load: (text) => entryFromServerJson('server.json', text, { containment: 'none' as never }),
  },
};

/** Whether `error` is what a user may see: an AgentdError of one line. */
function userError(error: unknown): string | undefined {
  if (!isAgentdError(error)) return undefined;
  if (error.message.includes('\n') || error.message.length > 2_000) return undefined;
  return error.message;
}

describe('fuzzing the YAML files agentd reads', () => {
  for (const [kind, { valid, load }] of Object.entries(kinds)) {
    it(`${kind}: every input is a valid result or one line`, async () => {
      const dir = tempDir();
      mkdirSync(join(dir, 'agents'), { recursive: true });
      await expect(Promise.resolve().then(() => load(valid, dir))).resolves.toBeDefined();
      await fc.assert(
        fc.asyncProperty(texts(valid), async (text) => {
          try {
            await load(text, dir);
          } catch (error) {
            if (userError(error) === undefined) {
              throw new Error(
                `not a one-line error: ${(error as Error)?.stack ?? String(error)}`.slice(0, 2_000),
              );
            }
          }
        }),
        { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
      );
    }, 120_000);
  }
});

describe('regressions the fuzzing found', () => {
  const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
  it('a value of megabytes is shown by its start and length, the error still one short line', async () => {
    const dir = tempDir();
    const found: [string, string][] = [
      // seed -704312658: limits.max_turns of 20,000 brackets echoed whole
      ['agent spec', kinds['agent spec']!.valid.replace(/max_turns: \d+/, `max_turns:${deep} 6`)],
      // seed 527939734: an unknown evaluator's name echoed whole
      [
        'eval suite',
        kinds['eval suite']!.valid.replace('  - tool_parameters', `  - tool_parameters ${deep}`),
      ],
    ];
    for (const [kind, text] of found) {
      const error = await Promise.resolve()
        .then(() => kinds[kind]!.load(text, dir))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      const message = userError(error);
      expect(message, String(error).slice(0, 500)).toBeDefined();
      expect(message!.length).toBeLessThan(600);
      expect(message).toMatch(/…" \(\d+ characters\)/);
    }
  });
});

describe('hostile YAML through the CLI: one line, exit 2, never an internal error', () => {
  const files: Record<string, string> = {
    'alias bomb': `${aliasBomb(9, 9)}name: bomb\nmodel: scripted/x\n`,
    'deep nesting': `name: deep\nmodel: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`,
    tags: 'name: !!js/function "function(){}"\nmodel: !!binary aGVsbG8=\n',
    'duplicate keys': 'name: a\nname: b\nmodel: scripted/x\n',
    'BOM and NUL': '\uFEFFname: "a\u0000b"\nmodel: scripted/x\n',
    'invalid UTF-8': Buffer.from([
      0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xff, 0xfe, 0xc3, 0x28, 0x0a,
    ]).toString('latin1'),
  };
  const commands: Record<string, (path: string) => string[]> = {
    'agentd run': (path) => ['run', path, 'a task'],
    'agentd team run': (path) => ['team', 'run', path, 'a task'],
    'agentd eval run': (path) => ['eval', 'run', path],
  };

  function expectOneLine(result: { code: number | null; stderr: string }, where: string) {
    const lines = result.stderr.trimEnd().split('\n');
    expect(result.code, `${where}: ${result.stderr.slice(0, 500)}`).toBe(2);
    expect(lines, where).toHaveLength(1);
    expect(lines[0]!.length, where).toBeLessThan(600);
    expect(result.stderr, where).not.toContain('internal error');
    expect(lines[0], where).toMatch(/^agentd: \S+\.yaml(:\d+:\d+)?: /);
  }

  it('agent specs, team specs and eval suites', async () => {
    const home = tempDir();
    const dir = tempDir();
    for (const [name, text] of Object.entries(files)) {
      const path = join(dir, `${name.replaceAll(' ', '-')}.yaml`);
      writeFileSync(path, name === 'invalid UTF-8' ? Buffer.from(text, 'latin1') : text);
      for (const [command, args] of Object.entries(commands)) {
        expectOneLine(await agentd(args(path), { home }), `${command} on ${name}`);
      }
    }
  }, 120_000);

  it('config.yaml', async () => {
    for (const [name, text] of Object.entries(files)) {
      const home = tempDir();
      writeFileSync(
        join(home, 'config.yaml'),
        name === 'invalid UTF-8' ? Buffer.from(text, 'latin1') : text,
      );
      const spec = join(repoRoot, 'examples/unit-converter/agent.yaml');
      const result = await agentd(['run', spec, 'a task'], {
        home,
      });
      expectOneLine(result, `config.yaml with ${name}`);
    }
  }, 120_000);
});
