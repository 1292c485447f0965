import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { detectContainmentHost } from '../../src/tools/bubblewrap.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const serverFilesystem = join(
  repoRoot,
  'node_modules/@modelcontextprotocol/server-filesystem/dist/index.js',
);

describe('an agent with built-in connectors and a third-party MCP server', () => {
  it('runs examples/todo-finder end to end, offline, through fs and the registered filesystem server', async () => {
    const home = tempDir();
    const project = join(home, 'project');
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(
      join(project, 'src', 'a.ts'),
      'export const a = 1;\n// TODO: handle the empty case\n',
    );
    writeFileSync(join(project, 'src', 'b.ts'), '// FIXME: this leaks\nexport const b = 2;\n');
    writeFileSync(join(project, 'notes.md'), 'TODO in markdown is not searched (include *.ts)\n');

    const add = await agentd(
      ['mcp', 'add', 'files', '--root', project, '--', process.execPath, serverFilesystem, project],
      {
        home,
      },
    );
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/14 tools: read_file, /);

    const run = await agentd(
      ['run', join(repoRoot, 'examples/todo-finder/agent.yaml'), 'the project', '--json'],
      {
        home,
        cwd: project,
      },
    );
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunEvent);
    const started = events[0];
    expect(started?.type === 'run.started' && started.data.tools.map((t) => t.name).sort()).toEqual(
      ['files__directory_tree', 'files__get_file_info', 'fs__read', 'fs__search'],
    );
    const results = events.flatMap((e) => (e.type === 'tool.result' ? [e.data] : []));
    // run in parallel: logged in the order they finished
    expect(results.map((r) => [r.name, r.isError]).sort()).toEqual([
      ['files__get_file_info', false],
      ['fs__search', false],
    ]);
    const finished = events.at(-1);
    expect(finished?.type === 'run.finished' && finished.data.status).toBe('completed');
    const output = finished?.type === 'run.finished' ? (finished.data.output ?? '') : '';
    expect(output).toMatch(/src\/a\.ts:2: \/\/ TODO: handle the empty case/);
    expect(output).toMatch(/src\/b\.ts:1: \/\/ FIXME: this leaks/);
    expect(output).not.toContain('notes.md');
    expect(output).toMatch(/Project folder: size: \d+/);
  });

  it('an unknown server or tool in the spec is one clear line before the run starts', async () => {
    const home = tempDir();
    const spec = join(home, 'agent.yaml');
    writeFileSync(spec, 'name: t\nmodel: scripted/t\nscript: s.yaml\ntools:\n  - nothere.read\n');
    writeFileSync(join(home, 's.yaml'), 'turns:\n  - text: hi\n');
    const unknownServer = await agentd(['run', spec, 'x'], { home });
    expect(unknownServer.code).toBe(2);
    expect(unknownServer.stderr.trim()).toMatch(
      /tools: no MCP server "nothere" is registered \(see agentd mcp list/,
    );
    writeFileSync(spec, 'name: t\nmodel: scripted/t\nscript: s.yaml\ntools:\n  - fs.reed\n');
    const unknownTool = await agentd(['run', spec, 'x'], { home });
    expect(unknownTool.code).toBe(2);
    expect(unknownTool.stderr.trim()).toMatch(
      /tools: MCP server "fs" has no tool "reed" \(it has: .*read.*\)$/,
    );
    expect(unknownTool.stderr.trim().split('\n')).toHaveLength(1);
    expect(await (await import('node:fs/promises')).readdir(home)).not.toContain(
      'agentd.db-journal',
    );
  });

  it.skipIf(!detectContainmentHost().bwrapPath)(
    "runs the shell connector's commands in the sandbox the spec asks for (skipped where bwrap is not installed)",
    async () => {
      const home = tempDir();
      const project = join(home, 'project');
      const hidden = join(home, 'hidden');
      mkdirSync(project);
      mkdirSync(hidden);
      writeFileSync(join(hidden, 'secret.txt'), 'not-for-the-agent');
      writeFileSync(
        join(project, 'agent.yaml'),
        'name: t\nmodel: scripted/t\nscript: s.yaml\ntools: [shell.run]\nconnectors:\n  shell: { sandbox: required }\n',
      );
      writeFileSync(
        join(project, 's.yaml'),
        `turns:
  - tool_calls:
      - name: shell__run
        input: { command: "echo made > made.txt; cat ${hidden}/secret.txt" }
  - text: done
`,
      );
      const run = await agentd(['run', 'agent.yaml', 'x', '--json'], { home, cwd: project });
      expect(run.code, run.stderr).toBe(0);
      expect(readFileSync(join(project, 'made.txt'), 'utf8')).toBe('made\n');
      const result = run.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as RunEvent)
        .find((e) => e.type === 'tool.result');
      const output = JSON.stringify(result?.type === 'tool.result' ? result.data : null);
      expect(output).toContain('No such file or directory');
      expect(output).not.toContain('not-for-the-agent');
    },
  );

  it('a shell connector that cannot be contained as asked is one line before the run starts', async () => {
    const home = tempDir();
    const spec = join(home, 'agent.yaml');
    writeFileSync(
      spec,
      'name: t\nmodel: scripted/t\nscript: s.yaml\ntools: [shell.run]\nconnectors:\n  shell: { paths: [./data] }\n',
    );
    writeFileSync(join(home, 's.yaml'), 'turns:\n  - text: hi\n');
    const run = await agentd(['run', spec, 'x'], { home, cwd: home });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      `agentd: ${spec}: shell connector: path "${join(home, 'data')}" does not exist; create it or remove it from connectors.shell.paths`,
    );
    expect(existsSync(join(home, 'data'))).toBe(false);
  });

  it('a tool module in a folder without agentd installed imports the agentd that runs it', async () => {
    const home = tempDir();
    writeFileSync(
      join(home, 'tools.ts'),
      "import { defineTool, z } from 'agentd';\nexport const shout = defineTool({ name: 'shout', description: 'Upper-cases a word.', input: z.object({ word: z.string() }), execute: ({ word }) => word.toUpperCase() });\n",
    );
    writeFileSync(
      join(home, 's.yaml'),
      'turns:\n  - tool_calls: [{ name: shout, input: { word: quiet } }]\n  - text: "{{results}}"\n',
    );
    writeFileSync(
      join(home, 'agent.yaml'),
      'name: t\nmodel: scripted/t\nscript: s.yaml\ntools:\n  - module: ./tools.ts\n',
    );
    const run = await agentd(['run', join(home, 'agent.yaml'), 'x'], { home, cwd: home });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('QUIET');
  });
});
