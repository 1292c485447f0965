import { readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { detectContainmentHost } from '../../src/tools/bubblewrap.ts';
import {
  createShellServer,
  type ShellConnectorOptions,
  type ShellSandbox,
} from '../../src/tools/connectors/index.ts';
import { tempDir } from '../support/temp-dir.ts';
import { connect } from './connect.ts';

const hasBwrap = detectContainmentHost().bwrapPath !== undefined;

/** Running (a zombie left for a parent that never reaps it counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * A `sleep` no other process runs (its duration is unique), found by its command line in
 * /proc, so it is seen from here whether it runs in a sandbox's pid namespace or not.
 */
function uniqueSleep() {
  const seconds = `30.${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
  const pids = () =>
    readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${seconds}\0`;
        } catch {
          return false;
        }
      })
      .map(Number)
      .filter(alive);
  return {
    command: `sleep ${seconds}`,
    running: () => pids().length > 0,
    /** Waits (briefly) for it to be gone; the kill is sent before the call returns. */
    async gone(): Promise<boolean> {
      for (let i = 0; i < 50 && pids().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      return pids().length === 0;
    },
  };
}

function setEnv(name: string, value: string) {
  const before = process.env[name];
  process.env[name] = value;
  onTestFinished(() => {
    if (before === undefined) delete process.env[name];
    else process.env[name] = before;
  });
}

const modes: ShellSandbox[] = hasBwrap ? ['off', 'required'] : ['off'];

if (!hasBwrap) {
  test.skip('skipped: the sandboxed runs of these tests (bwrap is not installed here; apt-get install bubblewrap to run them)', () => {});
}

describe.each(modes)('shell connector (sandbox: %s)', (sandbox) => {
  async function shellClient(options: Partial<ShellConnectorOptions> = {}) {
    return connect(createShellServer({ cwd: tempDir('agentd-shell-'), sandbox, ...options }));
  }

  test('lists run as a destructive, non-idempotent tool with an output schema', async () => {
    const { client } = await shellClient();
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['run']);
    expect(tools[0]!.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: false,
      openWorldHint: true,
    });
    expect(tools[0]!.outputSchema?.properties).toHaveProperty('exitCode');
  });

  test('runs a command in the configured directory and reports exit code, stdout and stderr', async () => {
    const cwd = tempDir('agentd-shell-');
    const shell = await shellClient({ cwd });
    const outcome = await shell.call('run', { command: 'pwd; echo oops >&2; exit 3' });
    expect(outcome.isError).toBe(false);
    expect(outcome.structured).toMatchObject({
      exitCode: 3,
      signal: null,
      stopped: null,
      stdout: `${realpathSync(cwd)}\n`,
      stderr: 'oops\n',
      stdoutTruncated: false,
      stderrTruncated: false,
      sandboxed: sandbox !== 'off',
    });
    expect(outcome.text.split('\n')[0]).toMatch(/^exit code 3 after \d+ ms$/);
    expect(outcome.text).toContain('--- stderr ---\noops');
  });

  test('stops a command that exceeds its timeout, with everything it started', async () => {
    const shell = await shellClient({ timeoutMs: 10_000 });
    const background = uniqueSleep();
    const outcome = await shell.call('run', {
      command: `${background.command} & sleep 30`,
      timeout_ms: 300,
    });
    expect(outcome.isError).toBe(true);
    expect(outcome.text.split('\n')[0]).toBe(
      'timed out after 300 ms; the command and everything it started were stopped (ended by SIGTERM)',
    );
    expect(outcome.structured).toMatchObject({
      stopped: 'timeout',
      exitCode: null,
      signal: 'SIGTERM',
    });
    expect(outcome.structured.durationMs).toBeLessThan(10_000);
    expect(alive(process.pid)).toBe(true);
    expect(await background.gone()).toBe(true);
  });

  test('stops a command that ignores SIGTERM', async () => {
    const shell = await shellClient({ timeoutMs: 300 });
    const ignoring = uniqueSleep();
    const outcome = await shell.call('run', { command: `trap '' TERM; ${ignoring.command}` });
    // Unsandboxed, the group outlives SIGTERM and gets SIGKILL; in the sandbox, bwrap
    // dies of SIGTERM and its pid namespace (the trapping shell with it) is killed.
    expect(outcome.structured).toMatchObject({
      stopped: 'timeout',
      signal: sandbox === 'off' ? 'SIGKILL' : 'SIGTERM',
    });
    expect(await ignoring.gone()).toBe(true);
  });

  test('leaves nothing running after the command exits', async () => {
    const shell = await shellClient();
    const background = uniqueSleep();
    const outcome = await shell.call('run', { command: `${background.command} & echo started` });
    expect(outcome.structured).toMatchObject({ exitCode: 0, stopped: null, stdout: 'started\n' });
    expect(await background.gone()).toBe(true);
  });

  test('stops the command and everything it started when the call is cancelled', async () => {
    const shell = await shellClient();
    const background = uniqueSleep();
    const controller = new AbortController();
    const call = shell.client.callTool(
      { name: 'run', arguments: { command: `${background.command} & wait` } },
      { signal: controller.signal },
    );
    while (!background.running()) await new Promise((r) => setTimeout(r, 10));
    controller.abort();
    await expect(call).rejects.toThrow();
    expect(await background.gone()).toBe(true);
  });

  test('stops a command whose output passes the limit and keeps what fit', async () => {
    const shell = await shellClient({ maxOutputBytes: 1000 });
    const outcome = await shell.call('run', { command: 'yes' });
    expect(outcome.isError).toBe(true);
    expect(outcome.text.split('\n')[0]).toMatch(
      /^output passed the limit of 1000 bytes; the command was stopped \(ended by SIG(TERM|PIPE)\); narrow its output/,
    );
    expect(outcome.structured).toMatchObject({
      stopped: 'output_limit',
      stdoutTruncated: true,
      stdout: 'y\n'.repeat(500),
    });
    expect(outcome.text).toContain('--- stdout (truncated) ---');
  });

  test('passes only allowlisted environment variables and a safe PATH', async () => {
    setEnv('AGENTD_TEST_SECRET', 'hunter2');
    setEnv('AGENTD_TEST_VISIBLE', 'shown');
    setEnv('LC_AGENTD_TEST', 'prefixed');
    const shell = await shellClient({ envAllowlist: ['AGENTD_TEST_VISIBLE', 'LC_*'] });
    const outcome = await shell.call('run', { command: 'env' });
    const env = (outcome.structured.stdout as string).split('\n').filter(Boolean).sort();
    expect(env).not.toContain('AGENTD_TEST_SECRET=hunter2');
    expect(outcome.text).not.toContain('hunter2');
    expect(env).toContain('AGENTD_TEST_VISIBLE=shown');
    expect(env).toContain('LC_AGENTD_TEST=prefixed');
    expect(env).toContain('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    expect(env.some((line) => line.startsWith('HOME='))).toBe(false);
  });

  test('refuses a timeout longer than the configured one', async () => {
    const shell = await shellClient({ timeoutMs: 1000 });
    const outcome = await shell.call('run', { command: 'true', timeout_ms: 5000 });
    expect(outcome.isError).toBe(true);
    expect(outcome.text).toContain('timeout_ms');
  });

  test('says so when its directory disappears', async () => {
    const cwd = tempDir('agentd-shell-');
    const shell = await shellClient({ cwd });
    rmSync(cwd, { recursive: true });
    const outcome = await shell.call('run', { command: 'true' });
    expect(outcome).toMatchObject({
      isError: true,
      text: `shell connector: cwd "${realpathSync(tmpdir())}/${basename(cwd)}" no longer exists`,
    });
  });

  test('a missing directory is a one-line error when the connector is created', () => {
    expect(() => createShellServer({ cwd: '/nonexistent/agentd-cwd' })).toThrow(
      'shell connector: cwd "/nonexistent/agentd-cwd" does not exist; create it or fix it',
    );
  });
});
