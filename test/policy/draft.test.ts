import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { loadAgentSpec } from '../../src/definition/agent-spec.ts';
import type { Model, ModelRequest } from '../../src/models/model.ts';
import { loadScript, ScriptedModel } from '../../src/models/scripted-model.ts';
import { loadCedar } from '../../src/policy/cedar.ts';
import { draftPolicies } from '../../src/policy/draft.ts';
import { specManifests } from '../../src/policy/load.ts';
import { generateSchema } from '../../src/policy/schema.ts';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const broken = `Here is a first try:
      \`\`\`cedar
      @id("read-src")
      permit (principal, action == Action::"fs.reed", resource in Dir::"src");
      \`\`\``;

const repaired = `\`\`\`cedar
      // Read anything under src/.
      @id("read-src")
      permit (principal, action == Action::"fs.read", resource in Dir::"src");

      // Never write .env, whatever else permits it.
      @id("never-env")
      @reason(".env holds secrets")
      forbid (principal, action == Action::"fs.write", resource is File)
      when { resource.name == ".env" };
      \`\`\``;

/** An agent whose scripted model answers the draft requests turn by turn. */
function drafter(turns: string[]) {
  const home = tempDir();
  const project = join(home, 'project');
  mkdirSync(project);
  writeFileSync(
    join(project, 'agent.yaml'),
    'name: writer\nmodel: scripted/drafter\nscript: ./script.yaml\ntools: [fs.read, fs.write]\n',
  );
  writeFileSync(
    join(project, 'script.yaml'),
    `turns:\n${turns.map((t) => `  - text: |\n      ${t}\n`).join('')}`,
  );
  return { home, project, spec: join(project, 'agent.yaml') };
}

describe('agentd policy draft', () => {
  it('the model writes Cedar, agentd validates it, hands the problems back once, and prints the repaired draft; --save writes it', async () => {
    const { home, project, spec } = drafter([broken, repaired]);
    const draft = await agentd(
      ['policy', 'draft', 'may read under src/, never write .env', '--agent', spec],
      { home, cwd: project },
    );
    expect(draft.code, draft.stderr).toBe(0);
    expect(draft.stdout).toBe(`// Read anything under src/.
@id("read-src")
permit (principal, action == Action::"fs.read", resource in Dir::"src");

// Never write .env, whatever else permits it.
@id("never-env")
@reason(".env holds secrets")
forbid (principal, action == Action::"fs.write", resource is File)
when { resource.name == ".env" };
`);
    expect(draft.stderr).toMatch(
      /valid: 2 policies, checked against the schema of writer, after 1 repair\. Review them: nothing was saved or activated \(--save <file\.cedar> writes them\)\./,
    );
    // nothing written anywhere without --save
    expect(existsSync(join(project, 'policies'))).toBe(false);

    const saved = await agentd(
      [
        'policy',
        'draft',
        'may read under src/, never write .env',
        '--agent',
        spec,
        '--save',
        'rules.cedar',
      ],
      { home, cwd: project },
    );
    expect(saved.code, saved.stderr).toBe(0);
    expect(readFileSync(join(project, 'rules.cedar'), 'utf8')).toBe(draft.stdout);
    expect(saved.stderr).toMatch(/Saved to rules\.cedar/);
    // what was saved is a valid policy set for the agent
    mkdirSync(join(project, 'candidate'));
    writeFileSync(join(project, 'candidate', 'rules.cedar'), draft.stdout);
    const validate = await agentd(['policy', 'validate', 'candidate', '--agent', spec], {
      home,
      cwd: project,
    });
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
  }, 60_000);

  it('the repair request carries the schema first, then each problem with its place', async () => {
    const { project, spec: specPath } = drafter([broken, repaired]);
    const spec = loadAgentSpec(specPath);
    const manifests = await specManifests(
      spec,
      loadConfig({ AGENTD_HOME: join(project, 'home') }),
      project,
    );
    const requests: ModelRequest[] = [];
    const scripted = new ScriptedModel('drafter', loadScript(join(project, 'script.yaml')));
    const recording: Model = {
      provider: scripted.provider,
      id: scripted.id,
      entry: scripted.entry,
      stream(request, signal) {
        requests.push(structuredClone(request));
        return scripted.stream(request, signal);
      },
    };
    const cedar = await loadCedar();
    const schema = generateSchema(manifests);
    const text = cedar.schemaToText(schema.json);
    if (text.type === 'failure') throw new Error('no schema text');
    const result = await draftPolicies({
      model: recording,
      cedar,
      schema,
      schemaText: text.text,
      agent: 'writer',
      requirement: 'may read under src/',
    });
    expect(
      result.attempts.map((a) => a.problems.filter((p) => p.severity === 'error').length),
    ).toEqual([1, 0]);
    expect(requests).toHaveLength(2);
    const first = requests[0]!.messages[0];
    expect(first?.role === 'user' && first.text).toMatch(/Requirement:\nmay read under src\//);
    expect(first?.role === 'user' && first.text).toMatch(/action "read" appliesTo|"fs\.read"/);
    const repair = requests[1]!.messages.at(-1);
    expect(repair?.role === 'user' && repair.text).toMatch(
      /^agentd checked these policies against the schema and found problems .*\ndraft\.cedar:2:\d+: .*fs\.reed/s,
    );
    expect(requests[1]!.messages[1]).toMatchObject({ role: 'assistant' });
  });

  it('a draft still invalid after two repairs is shown with its problems and never saved', async () => {
    const { home, project, spec } = drafter([broken, broken, broken]);
    const result = await agentd(
      ['policy', 'draft', 'may read under src/', '--agent', spec, '--save', 'rules.cedar'],
      { home, cwd: project },
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/fs\.reed/);
    expect(result.stderr).toMatch(/^draft\.cedar:2:\d+: .*fs\.reed/m);
    expect(result.stderr).toMatch(
      /invalid: the draft still has 1 error, after 2 repairs; nothing was saved/,
    );
    expect(existsSync(join(project, 'rules.cedar'))).toBe(false);
  }, 60_000);

  it('errors are one line each', async () => {
    const { home, project, spec } = drafter([repaired]);
    writeFileSync(join(project, 'taken.cedar'), '// mine\n');
    const cases: [string[], RegExp][] = [
      [
        ['policy', 'draft', 'read src'],
        /^agentd: agentd policy draft: --agent <agent\.yaml> is required/,
      ],
      [
        ['policy', 'draft', '  ', '--agent', spec],
        /^agentd: agentd policy draft: the requirement is empty/,
      ],
      [
        ['policy', 'draft', 'read src', '--agent', spec, '--save', 'taken.cedar'],
        /^agentd: --save: taken\.cedar already exists; give a new file name/,
      ],
      [
        ['policy', 'draft', 'read src', '--agent', spec, '--model', 'nope'],
        /^agentd: --model: "nope" is not provider\/model-id/,
      ],
      [
        ['policy', 'draft', 'read src', '--agent', spec, '--model', 'anthropic/claude-sonnet-5-5'],
        /^agentd: agentd policy draft needs anthropic\/claude-sonnet-5-5, and its credentials are not set/,
      ],
    ];
    for (const [args, expected] of cases) {
      const result = await agentd(args, { home, cwd: project });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(expected);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect(readFileSync(join(project, 'taken.cedar'), 'utf8')).toBe('// mine\n');
  }, 60_000);
});
