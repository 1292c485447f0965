import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const serverFilesystem = join(
  repoRoot,
  'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js',
);

function events(stdout: string): RunEvent[] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RunEvent);
}

/** A project with a writer agent (fs.read, fs.write) replaying a script, and its policies. */
function writerProject(policy: Record<string, string>, specPolicy = '') {
  const home = tempDir();
  const project = join(home, 'project');
  mkdirSync(join(project, 'src'), { recursive: true });
  mkdirSync(join(project, 'policies'));
  writeFileSync(join(project, 'src', 'a.ts'), 'export const a = 1;\n');
  writeFileSync(join(project, '.env'), 'TOKEN=keep-me\n');
  writeFileSync(
    join(project, 'agent.yaml'),
    `name: writer\nmodel: scripted/w\nscript: ./script.yaml\ntools: [fs.read, fs.write]\n${specPolicy}`,
  );
  writeFileSync(
    join(project, 'script.yaml'),
    `turns:
  - tool_calls:
      - { name: fs__read, input: { path: src/a.ts } }
      - { name: fs__write, input: { path: .env, content: "TOKEN=stolen" } }
  - text: "done"
`,
  );
  for (const [name, text] of Object.entries(policy)) {
    writeFileSync(join(project, 'policies', name), text);
  }
  return { home, project };
}

const writerPolicies = {
  'files.cedar': `@id("read-src")
permit (principal == Agent::"writer", action == Action::"fs.read", resource in Dir::"src");
@id("writes")
permit (principal, action == Action::"fs.write", resource);
@id("never-env")
forbid (principal, action == Action::"fs.write", resource is File) when { resource.name == ".env" };
`,
};

describe('agentd policy and agentd audit', () => {
  it('the todo-finder example: its policies validate, its cases pass, and it still runs, every call decided and audited', async () => {
    const home = tempDir();
    const project = join(home, 'project');
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(join(project, 'src', 'a.ts'), '// TODO: finish\n');
    writeFileSync(join(project, '.env'), 'TOKEN=1\n');
    const add = await agentd(
      ['mcp', 'add', 'files', '--root', project, '--', process.execPath, serverFilesystem, project],
      { home },
    );
    expect(add.code, add.stderr).toBe(0);
    const spec = join(repoRoot, 'examples/todo-finder/agent.yaml');

    const validate = await agentd(['policy', 'validate', '--agent', spec], { home, cwd: project });
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    expect(validate.stderr).toMatch(
      /^valid: 3 policies in 1 file, checked against the schema of todo-finder/,
    );

    const test = await agentd(
      ['policy', 'test', join(repoRoot, 'examples/todo-finder/policy-cases.yaml')],
      { home, cwd: project },
    );
    expect(test.code, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/^7 passed, 0 failed$/m);
    expect(test.stdout).toMatch(
      /✓ never reads \.env: deny \(forbidden by no-secrets: secret files are not read\)/,
    );

    const run = await agentd(['run', spec, 'the project', '--json'], { home, cwd: project });
    expect(run.code, run.stderr).toBe(0);
    const log = events(run.stdout);
    const started = log[0];
    expect(started?.type === 'run.started' && started.data.policy).toMatchObject({
      mode: 'enforce',
      policies: 3,
      files: [expect.stringMatching(/todo-finder\.cedar$/)],
    });
    const decisions = log.flatMap((e) => (e.type === 'policy.decision' ? [e.data] : []));
    expect(decisions.map((d) => [d.action, d.decision, d.policies]).sort()).toEqual([
      ['files.get_file_info', 'allow', ['inspect-with-files']],
      ['fs.search', 'allow', ['read-project']],
    ]);
    const finished = log.at(-1);
    expect(finished?.type === 'run.finished' && finished.data.output).toMatch(
      /src\/a\.ts:1: \/\/ TODO: finish/,
    );

    const show = await agentd(['runs', 'show', started!.runId], { home });
    expect(show.stdout).toMatch(
      /policy: .*policies \(enforced, 3 policies, version [0-9a-f]{12}\)/,
    );
    expect(show.stdout).toMatch(
      /policy\.decision +allow fs\.search on Dir::"\.": permitted by read-project/,
    );
    const verify = await agentd(['audit', 'verify'], { home });
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^ok: 2 entries, chain intact; head 2:[0-9a-f]{64}$/m);
    const list = await agentd(['audit', 'list', '--run', started!.runId], { home });
    expect(list.stdout).toMatch(/files\.get_file_info +Server::"files" +allow +inspect-with-files/);
  });

  it('an agent without a policy runs as before, and its run says no policy applied', async () => {
    const home = tempDir();
    const run = await agentd(
      ['run', join(repoRoot, 'examples/unit-converter/agent.yaml'), '5 miles in km', '--json'],
      { home },
    );
    expect(run.code, run.stderr).toBe(0);
    const log = events(run.stdout);
    expect(log.some((e) => e.type === 'policy.decision')).toBe(false);
    const show = await agentd(['runs', 'show', log[0]!.runId], { home });
    expect(show.stdout).toMatch(/policy: none \(no policy set: all calls allowed\)/);
    expect((await agentd(['audit', 'list'], { home })).stdout).toMatch(
      /^no policy decisions recorded yet/,
    );
  });

  it('malformed Cedar and an unknown action: validate prints file:line:col for each, a run refuses to start in one line', async () => {
    const { home, project } = writerProject({
      'a.cedar': 'permit (principal, action == Action::"fs.reed", resource);\n',
      'b.cedar': '// b\npermit (principal, action, resource)\n  when { resource.path == };\n',
    });
    const validate = await agentd(['policy', 'validate', '--agent', 'agent.yaml'], {
      home,
      cwd: project,
    });
    expect(validate.code).toBe(1);
    const lines = validate.stdout.trim().split('\n');
    expect(lines).toContainEqual(
      'policies/a.cedar:1:30: unrecognized action `Action::"fs.reed"` (did you mean `Action::"fs.read"`?)',
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^policies\/b\.cedar:3:27: unexpected token `}`/),
    );
    expect(validate.stderr).toBe(
      'invalid: 2 errors in 2 files; a run with these policies does not start\n',
    );

    const run = await agentd(['run', 'agent.yaml', 'go'], { home, cwd: project });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr.trim()).toMatch(
      /^agentd: agent\.yaml: policy: policies\/b\.cedar:3:27: unexpected token `}`.* \(and 1 more; agentd policy validate .*policies --agent agent\.yaml lists them\); the run did not start$/,
    );
    expect(readFileSync(join(project, '.env'), 'utf8')).toBe('TOKEN=keep-me\n');
  });

  it('policy test: exits 1 on a decision that differs, and an unknown tool is one line', async () => {
    const { home, project } = writerProject(writerPolicies);
    writeFileSync(
      join(project, 'cases.yaml'),
      `agent: ./agent.yaml
cases:
  - { name: reads src, tool: fs.read, input: { path: src/a.ts }, expect: allow }
  - { name: writes .env, tool: fs.write, input: { path: .env, content: x }, expect: allow }
  - { name: writes elsewhere, tool: fs.write, input: { path: notes.md, content: x }, expect: allow }
`,
    );
    const test = await agentd(['policy', 'test', 'cases.yaml'], { home, cwd: project });
    expect(test.code).toBe(1);
    expect(test.stdout).toContain(
      '✗ writes .env: expected allow, got deny (forbidden by never-env)',
    );
    expect(test.stdout).toMatch(/^2 passed, 1 failed$/m);

    writeFileSync(
      join(project, 'cases.yaml'),
      'agent: ./agent.yaml\ncases:\n  - { tool: fs.reed, input: { path: a }, expect: deny }\n',
    );
    const unknown = await agentd(['policy', 'test', 'cases.yaml'], { home, cwd: project });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(
      /^agentd: cases\.yaml: cases\.0\.tool: "fs\.reed" is not an action of writer's schema/,
    );
    writeFileSync(
      join(project, 'cases.yaml'),
      'agent: ./agent.yaml\ncases:\n  - { tool: fs.read, expect: maybe }\n',
    );
    const bad = await agentd(['policy', 'test', 'cases.yaml'], { home, cwd: project });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^agentd: cases\.yaml: cases\.0\.expect: .*maybe/);
  });

  it('enforces end to end: the .env write is denied and the model is told; log_only records the same and lets it through', async () => {
    const enforced = writerProject(writerPolicies);
    const run = await agentd(['run', 'agent.yaml', 'go', '--json'], {
      home: enforced.home,
      cwd: enforced.project,
    });
    expect(run.code, run.stderr).toBe(0);
    const result = events(run.stdout).find(
      (e) => e.type === 'tool.result' && e.data.name === 'fs__write',
    );
    expect(result?.type === 'tool.result' && result.data).toMatchObject({
      isError: true,
      errorKind: 'denied',
      output: 'Denied by policy: forbidden by never-env. The call did not run.',
    });
    expect(readFileSync(join(enforced.project, '.env'), 'utf8')).toBe('TOKEN=keep-me\n');

    const logged = writerProject(writerPolicies, 'policy: { mode: log_only }\n');
    const shadow = await agentd(['run', 'agent.yaml', 'go'], {
      home: logged.home,
      cwd: logged.project,
    });
    expect(shadow.code, shadow.stderr).toBe(0);
    expect(shadow.stderr).toMatch(
      /policy: .*policies \(log only: records, blocks nothing, 3 policies/,
    );
    expect(shadow.stderr).toMatch(
      /! policy would deny fs\.write \(log only, allowed\) on File::"\.env": forbidden by never-env/,
    );
    expect(readFileSync(join(logged.project, '.env'), 'utf8')).toBe('TOKEN=stolen');
    const list = await agentd(['audit', 'list'], { home: logged.home });
    expect(list.stdout).toMatch(/fs\.write +File::"\.env" +deny \(log only\) +never-env/);
  });

  it('under a policy set the http connector hands redirects back, so each hop is decided', async () => {
    const web = createServer((req, res) => {
      if (req.url === '/go') res.writeHead(302, { location: '/landed' }).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('landed');
    });
    web.listen(0, '127.0.0.1');
    await once(web, 'listening');
    try {
      const port = (web.address() as AddressInfo).port;
      const home = tempDir();
      mkdirSync(join(home, 'policies'));
      writeFileSync(
        join(home, 'agent.yaml'),
        'name: fetcher\nmodel: scripted/f\nscript: ./script.yaml\ntools: [http.fetch]\nconnectors:\n  http: { allow_private: [127.0.0.1] }\n',
      );
      writeFileSync(
        join(home, 'script.yaml'),
        `turns:\n  - tool_calls:\n      - { name: http__fetch, input: { url: "http://127.0.0.1:${port}/go" } }\n  - text: done\n`,
      );
      writeFileSync(
        join(home, 'policies', 'web.cedar'),
        'permit (principal, action == Action::"http.fetch", resource) when { resource.host == "127.0.0.1" };\n',
      );
      const run = await agentd(['run', 'agent.yaml', 'go', '--json'], { home, cwd: home });
      expect(run.code, run.stderr).toBe(0);
      const result = events(run.stdout).find((e) => e.type === 'tool.result');
      const output = result?.type === 'tool.result' ? String(result.data.output) : '';
      expect(output).toMatch(/^HTTP 302 Found http:\/\/127\.0\.0\.1:\d+\/go\nlocation: \/landed/);
    } finally {
      web.close();
    }
  });

  it('audit verify fails, naming the entry, after a row is edited in the database', async () => {
    const { home, project } = writerProject(writerPolicies);
    expect((await agentd(['run', 'agent.yaml', 'go'], { home, cwd: project })).code).toBe(0);
    const verified = await agentd(['audit', 'verify'], { home });
    expect(verified.code).toBe(0);
    const head = /head (\d+:[0-9a-f]{64})/.exec(verified.stdout)?.[1];
    expect(head).toBeDefined();
    const db = new DatabaseSync(join(home, 'agentd.db'));
    db.exec('DROP TRIGGER audit_log_no_update');
    db.exec("UPDATE audit_log SET effect = 'allow' WHERE action = 'fs.write'");
    db.close();
    const broken = await agentd(['audit', 'verify', '--anchor', head!], { home });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^broken: entry #\d was changed after it was written/);
    const exported = await agentd(['audit', 'export'], { home });
    const rows = exported.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { seq: number; action: string; hash: string });
    expect(rows.map((r) => r.seq)).toEqual([1, 2]);
    expect(rows.map((r) => r.action).sort()).toEqual(['fs.read', 'fs.write']);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.hash))).toBe(true);
  });
});
