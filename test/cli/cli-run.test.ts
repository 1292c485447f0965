import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

function runIdOf(stderr: string): string {
  const match = /run (run_[0-9a-z]+) · agentd runs show/.exec(stderr);
  if (!match) throw new Error(`no run id in: ${stderr}`);
  return match[1]!;
}

describe('agentd run (offline examples)', () => {
  it('runs the repository inspector on the scripted replay, says so, and records a full timeline', async () => {
    const home = tempDir();
    const run = await agentd(
      ['run', 'examples/repo-inspector/agent.yaml', 'How big is this repository?'],
      { home },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /^note: ANTHROPIC_API_KEY is not set, so this run replays the scripted model/,
    );
    expect(run.stderr).toContain('(scripted replay, not a model)');
    expect(run.stderr).toMatch(/→ list_files .*\n→ count_lines/);
    expect(run.stderr).toMatch(/✓ completed · 2 turns · [\d,]+ in \/ [\d,]+ out tokens · \$0 · /);
    expect(run.stdout).toMatch(/^\[scripted\] /);
    expect(run.stdout).toMatch(/[\d,]+ lines in \d+ files under \./);
    const id = runIdOf(run.stderr);

    const show = await agentd(['runs', 'show', id.slice(0, 16)], { home });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain(
      `run ${id} · repo-inspector · scripted/repo-inspector · completed (final_answer)`,
    );
    expect(show.stdout).toMatch(/2 turns · [\d,]+ in \/ [\d,]+ out tokens · \$0 · /);
    for (const type of [
      'run.started',
      'model.request',
      'model.response',
      'tool.call',
      'tool.result',
      'run.finished',
    ]) {
      expect(show.stdout).toContain(type);
    }
    expect(show.stdout).toMatch(
      /model\.response +turn 1: 2 tool calls .* · [\d,]+ in \/ [\d,]+ out · \$0 · tool_calls/,
    );

    const list = await agentd(['runs', 'list'], { home });
    expect(list.stdout).toMatch(
      new RegExp(`${id} +completed +repo-inspector +scripted/repo-inspector +2 `),
    );

    const out = join(home, 'events.jsonl');
    const exported = await agentd(['runs', 'export', id, '-o', out], { home });
    expect(exported.code).toBe(0);
    const events = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunEvent);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i));
    expect(events[0]?.type).toBe('run.started');
    expect(events.at(-1)).toMatchObject({
      type: 'run.finished',
      data: { status: 'completed', turns: 2 },
    });
    const stdoutExport = await agentd(['runs', 'export', id], { home });
    expect(stdoutExport.stdout).toBe(readFileSync(out, 'utf8'));
  });

  it('prints events as JSON lines with --json', async () => {
    const home = tempDir();
    const run = await agentd(['run', 'examples/unit-converter/agent.yaml', 'convert', '--json'], {
      home,
    });
    expect(run.code, run.stderr).toBe(0);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunEvent);
    expect(events.map((e) => e.type)).toEqual([
      'run.started',
      'model.request',
      'model.response',
      'tool.call',
      'tool.call',
      'tool.result',
      'tool.result',
      'model.request',
      'model.response',
      'run.finished',
    ]);
    const finished = events.at(-1);
    expect(finished?.type === 'run.finished' && finished.data.output).toContain(
      '= 42.1950684672 km',
    );
  });

  it('stops at --max-turns with exit code 3', async () => {
    const home = tempDir();
    const run = await agentd(
      ['run', 'examples/unit-converter/agent.yaml', 'convert', '--max-turns', '1'],
      { home },
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/✗ budget_exceeded \(max_turns\)/);
    expect(run.stderr).toMatch(/why: reached limits\.max_turns \(1 of 1 turns\)/);
  });

  it('ends a run cleanly as cancelled on Ctrl-C', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'tools.ts'),
      `import { writeFileSync } from 'node:fs';
import { defineTool, z } from ${JSON.stringify(`${repoRoot}src/index.ts`)};
export const wait = defineTool({ name: 'wait', description: 'waits', input: z.object({}),
  execute: (_, { signal }) => new Promise((resolve, reject) => { const t = setTimeout(() => { writeFileSync(${JSON.stringify(join(dir, 'outcome'))}, 'finished'); resolve('done'); }, 20_000); signal.addEventListener('abort', () => { clearTimeout(t); writeFileSync(${JSON.stringify(join(dir, 'outcome'))}, 'aborted'); reject(signal.reason); }); }) });
`,
    );
    writeFileSync(
      join(dir, 'script.yaml'),
      'turns:\n  - tool_calls:\n      - name: wait\n  - text: never\n',
    );
    writeFileSync(
      join(dir, 'agent.yaml'),
      'name: waiter\nmodel: scripted/waiter\nscript: script.yaml\ntools:\n  - module: tools.ts\n',
    );
    const home = join(dir, 'home');
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const env = { ...process.env, AGENTD_HOME: home, NO_COLOR: '1' };
      const child = spawn(
        process.execPath,
        [join(repoRoot, 'bin/agentd.js'), 'run', join(dir, 'agent.yaml'), 'wait'],
        { env },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (text: string) => {
        stderr += text;
        if (text.includes('→ wait')) child.kill('SIGINT');
      });
      child.on('close', (code) => resolve({ code, stderr }));
    });
    // the tool in flight was told to stop, not waited for
    expect(readFileSync(join(dir, 'outcome'), 'utf8')).toBe('aborted');
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toContain('cancelling…');
    expect(result.stderr).toMatch(/✗ cancelled \(cancelled\)/);
    const list = await agentd(['runs', 'list', '--json'], { home });
    expect(JSON.parse(list.stdout.trim())).toMatchObject({ agent: 'waiter', status: 'cancelled' });
  });

  it('lists the model catalog with prices and distillation terms', async () => {
    const home = tempDir();
    const models = await agentd(['models'], { home });
    expect(models.code).toBe(0);
    expect(models.stdout).toMatch(
      /anthropic\/claude-opus-4-5 +200,000 +[\d,]+ +\$5 \/ \$25 \/ \$0\.5 .* no +catalog 2026-11-22\n/,
    );
    const json = await agentd(['models', '--json', '--provider', 'openai'], { home });
    const entries = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { provider: string; source: string });
    expect(entries.length).toBeGreaterThan(3);
    expect(entries.every((e) => e.provider === 'openai' && e.source.startsWith('http'))).toBe(true);
  });

  it('shows help for every command', async () => {
    const home = tempDir();
    for (const args of [
      ['--help'],
      ['run', '--help'],
      ['runs', '--help'],
      ['runs', 'list', '--help'],
      ['runs', 'show', '--help'],
      ['runs', 'export', '--help'],
      ['models', '--help'],
    ]) {
      const help = await agentd(args, { home });
      expect(help.code, args.join(' ')).toBe(0);
      expect(help.stdout).toMatch(/^Usage: agentd/);
    }
  });
});
