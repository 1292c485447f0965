import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { survivors } from '../../scripts/process-leaks.ts';
import { repoRoot } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

/** `node scripts/no-leaks.ts bash <script>`: its status and what it said. */
function underNoLeaks(
  script: string,
  args: string[] = [],
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'scripts/no-leaks.ts'), 'bash', script, ...args],
      { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' } },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      out += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      err += text;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

function script(text: string): string {
  const path = join(tempDir(), 'script.sh');
  writeFileSync(path, text);
  return path;
}

describe('scripts/no-leaks.ts', () => {
  it('fails a script that kills the subshell of a shell function and so leaves its process running, and ends that process', async () => {
    // the shape of the defect in the gateway conformance script: `$!` of a backgrounded function
    // (once the function's subshell has started its process: before, the kill would end both)
    const path = script(
      [
        'server() { sleep "$@"; }',
        'server 301 &',
        'pid=$!',
        'until pgrep -P "$pid" -x sleep >/dev/null; do sleep 0.05; done',
        'kill -TERM "$pid"',
        'wait "$pid"',
        'echo done',
        '',
      ].join('\n'),
    );
    const result = await underNoLeaks(path);
    expect(result.out).toBe('done\n');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      /^no-leaks: bash \S+script\.sh: process \d+ outlived it: sleep 301\n$/,
    );
    const pid = Number(/process (\d+)/.exec(result.err)![1]);
    expect(survivors('NO_SUCH_MARKER=1', '/nonexistent').some((p) => p.pid === pid)).toBe(false);
  });

  it('fails a script that leaves a folder in the temp folder, and removes it', async () => {
    const result = await underNoLeaks(script('mktemp -d -t left-behind-XXXXXX >/dev/null\n'));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^no-leaks: bash \S+: left in the temp folder: left-behind-\w+\n$/);
  });

  it('passes on the status of a script that ends what it starts and removes what it makes', async () => {
    const path = script(
      [
        'dir=$(mktemp -d)',
        'trap \'rm -rf "$dir"\' EXIT',
        'setsid sleep 302 &',
        'pid=$!',
        'until kill -0 -- "-$pid" 2>/dev/null; do sleep 0.05; done', // its group exists
        'kill -TERM -- "-$pid"',
        'wait "$pid"',
        'exit 3',
        '',
      ].join('\n'),
    );
    const result = await underNoLeaks(path);
    expect(result.err).toBe('');
    expect(result.code).toBe(3);
  });

  it('the gateway conformance script ends agentd serve and removes its folder (it used to leave both)', async () => {
    // a filter that matches no run: it registers the fixture, starts serve, runs nothing, stops
    const result = await underNoLeaks(join(repoRoot, 'scripts/mcp-gateway-conformance.sh'), [
      'no-such-run',
    ]);
    expect(result.err).toBe('');
    expect(result.out).toMatch(/::: agentd serve at http:\/\/127\.0\.0\.1:\d+ /);
    expect(result.out).toMatch(/gateway conformance: \d+ s in all; no new failures\n$/);
    expect(result.code).toBe(0);
  }, 60_000);
});
