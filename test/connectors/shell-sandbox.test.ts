import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, onTestFinished, test } from 'vitest';
import { detectContainmentHost } from '../../src/tools/bubblewrap.ts';
import {
  ConnectorError,
  createShellServer,
  type ShellConnectorOptions,
} from '../../src/tools/connectors/index.ts';
import { tempDir } from '../support/temp-dir.ts';
import { connect } from './connect.ts';

const host = detectContainmentHost();

/** The Node running these tests, and its install (declared read-only so the sandbox can run it). */
const node = realpathSync(process.execPath);
const nodeInstall = dirname(dirname(node));

async function shellClient(options: Partial<ShellConnectorOptions> = {}) {
  const cwd = realpathSync(options.cwd ?? tempDir('agentd-shell-box-'));
  const shell = await connect(createShellServer({ ...options, cwd }));
  return { ...shell, cwd };
}

async function description(shell: Awaited<ReturnType<typeof shellClient>>) {
  const { tools } = await shell.client.listTools();
  return tools[0]!.description ?? '';
}

describe('shell connector in the bubblewrap sandbox', () => {
  if (!host.bwrapPath) {
    test.skip('skipped: bwrap is not installed here (apt-get install bubblewrap to run these)', () => {});
    return;
  }

  let listener: Server | undefined;
  afterEach(() => {
    listener?.close();
    listener = undefined;
  });

  /** A TCP server on 127.0.0.1 that counts the connections it gets. */
  async function listen() {
    const counter = { port: 0, connections: 0 };
    listener = createServer((socket) => {
      counter.connections++;
      socket.end();
    });
    await new Promise<void>((resolve) => listener!.listen(0, '127.0.0.1', resolve));
    const address = listener.address();
    counter.port = typeof address === 'object' && address ? address.port : 0;
    return counter;
  }

  const connectCommand = (port: number) =>
    `"${node}" -e "require('node:net').connect(${port}, '127.0.0.1').on('connect', () => { console.log('connected'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(1); })"`;
  const nodePath = { path: nodeInstall, writable: false };

  test('a command cannot reach the network unless the spec grants it', async () => {
    const server = await listen();
    const closed = await shellClient({ paths: [nodePath] });
    const refused = await closed.call('run', { command: connectCommand(server.port) });
    expect(refused.structured).toMatchObject({ exitCode: 1, sandboxed: true });
    expect(refused.structured.stdout).not.toContain('connected');
    expect(refused.structured.stdout).toMatch(/^E[A-Z]+\n$/);
    expect(server.connections).toBe(0);

    const open = await shellClient({ paths: [nodePath], network: true });
    const connected = await open.call('run', { command: connectCommand(server.port) });
    expect(connected.structured).toMatchObject({ exitCode: 0, stdout: 'connected\n' });
    expect(server.connections).toBe(1);
  });

  test('a command writes its own folder and declared writable paths, nothing else', async () => {
    const elsewhere = tempDir('agentd-shell-elsewhere-');
    const readOnly = tempDir('agentd-shell-ro-');
    const writable = tempDir('agentd-shell-rw-');
    writeFileSync(join(readOnly, 'in.txt'), 'given');
    const shell = await shellClient({
      paths: [
        { path: readOnly, writable: false },
        { path: writable, writable: true },
      ],
    });

    const own = await shell.call('run', { command: 'echo mine > own.txt' });
    expect(own.structured).toMatchObject({ exitCode: 0 });
    expect(readFileSync(join(shell.cwd, 'own.txt'), 'utf8')).toBe('mine\n');

    const outside = await shell.call('run', { command: `echo no > ${elsewhere}/out.txt` });
    expect(outside.structured.exitCode).not.toBe(0);
    expect(existsSync(join(elsewhere, 'out.txt'))).toBe(false);

    const denied = await shell.call('run', {
      command: `cat ${readOnly}/in.txt; echo no > ${readOnly}/out.txt`,
    });
    expect(denied.structured).toMatchObject({ stdout: 'given' });
    expect(denied.structured.stderr).toMatch(/Read-only file system/);
    expect(denied.structured.exitCode).not.toBe(0);
    expect(existsSync(join(readOnly, 'out.txt'))).toBe(false);

    const declared = await shell.call('run', { command: `echo yes > ${writable}/out.txt` });
    expect(declared.structured).toMatchObject({ exitCode: 0 });
    expect(readFileSync(join(writable, 'out.txt'), 'utf8')).toBe('yes\n');
  });

  test('a command cannot read folders it was not given', async () => {
    const hidden = tempDir('agentd-shell-hidden-');
    writeFileSync(join(hidden, 'secret.txt'), 'the-hidden-content');
    const shell = await shellClient();
    const secret = await shell.call('run', { command: `cat ${hidden}/secret.txt` });
    expect(secret.structured.exitCode).not.toBe(0);
    expect(secret.structured.stderr).toMatch(/No such file or directory/);
    expect(secret.text).not.toContain('the-hidden-content');
    // agentd's own checkout is not there either
    const checkout = await shell.call('run', {
      command: `test -e ${join(process.cwd(), 'package.json')}`,
    });
    expect(checkout.structured.exitCode).toBe(1);
  });

  test('a command gets a private /tmp', async () => {
    const name = `agentd-shell-private-${process.pid}-${Date.now()}`;
    const before = process.env.TMPDIR;
    process.env.TMPDIR = tempDir('agentd-shell-host-tmp-');
    onTestFinished(() => {
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
    });
    const shell = await shellClient({ envAllowlist: ['TMPDIR'] });
    const outcome = await shell.call('run', {
      command: `echo x > /tmp/${name} && cat /tmp/${name} && echo "$TMPDIR"`,
    });
    // the host's TMPDIR is not visible in the sandbox, so it points at the private /tmp
    expect(outcome.structured).toMatchObject({ exitCode: 0, stdout: 'x\n/tmp\n' });
    expect(existsSync(join(tmpdir(), name))).toBe(false);
    expect(existsSync(join('/tmp', name))).toBe(false);
  });

  test('the tool and the server say what contains the commands', async () => {
    const closed = await shellClient();
    const text = `Sandboxed (bubblewrap): no network; only ${closed.cwd} writable;`;
    expect(await description(closed)).toContain(text);
    expect(closed.client.getInstructions()).toContain(text);
    expect(await description(closed)).not.toContain('Not sandboxed');

    const readOnly = realpathSync(tempDir('agentd-shell-ro-'));
    const open = await shellClient({ network: true, paths: [{ path: readOnly, writable: false }] });
    expect(await description(open)).toContain(
      `Sandboxed (bubblewrap): network allowed; only ${open.cwd} writable; ${readOnly} read-only;`,
    );
  });

  test('a timeout and the output limit still hold inside the sandbox', async () => {
    const shell = await shellClient({ timeoutMs: 300, maxOutputBytes: 1000 });
    const slow = await shell.call('run', { command: 'sleep 30' });
    expect(slow).toMatchObject({
      isError: true,
      structured: { stopped: 'timeout', sandboxed: true },
    });
    expect(slow.structured.durationMs).toBeLessThan(5_000);
    const loud = await shell.call('run', { command: 'yes' });
    expect(loud).toMatchObject({
      isError: true,
      structured: { stopped: 'output_limit', stdout: 'y\n'.repeat(500), sandboxed: true },
    });
  });

  test('"/" is refused as a sandboxed folder', () => {
    expect(() => createShellServer({ cwd: '/' })).toThrow(
      'shell connector: "/" cannot be a sandboxed folder (it would show the whole machine); give a project folder, or set connectors.shell.sandbox to off',
    );
  });

  test('sandbox: off runs without it and says so', async () => {
    const server = await listen();
    const shell = await shellClient({ sandbox: 'off' });
    const text = await description(shell);
    expect(text).toContain(
      "Not sandboxed (connectors.shell.sandbox is off): the command can reach the network and every file agentd's user can.",
    );
    expect(text).not.toContain('Sandboxed (bubblewrap)');
    const connected = await shell.call('run', { command: connectCommand(server.port) });
    expect(connected.structured).toMatchObject({ stdout: 'connected\n', sandboxed: false });
  });
});

describe('shell connector where bwrap is missing', () => {
  const missing = '/nonexistent/agentd-test/bwrap';

  test('sandbox: required refuses to start, in one line', () => {
    expect(() =>
      createShellServer({ cwd: tempDir(), sandbox: 'required', bwrapPath: missing }),
    ).toThrow(
      new ConnectorError(
        `shell connector: sandbox is "required" but bwrap is not installed at ${missing}: install bubblewrap (apt-get install bubblewrap) or set connectors.shell.sandbox to auto or off`,
      ),
    );
  });

  test('sandbox: auto runs without it, and nothing claims a sandbox', async () => {
    const shell = await shellClient({ bwrapPath: missing });
    const text = await description(shell);
    expect(text).toContain(
      "Not sandboxed (bwrap is not installed): the command can reach the network and every file agentd's user can.",
    );
    expect(text).not.toContain('Sandboxed (bubblewrap)');
    const outcome = await shell.call('run', { command: 'echo ran' });
    expect(outcome.structured).toMatchObject({ exitCode: 0, stdout: 'ran\n', sandboxed: false });
  });

  test('declared paths must be absolute and exist', () => {
    expect(() =>
      createShellServer({ cwd: tempDir(), paths: [{ path: 'data', writable: false }] }),
    ).toThrow(new ConnectorError('shell connector: path "data" must be absolute'));
    expect(() =>
      createShellServer({
        cwd: tempDir(),
        paths: [{ path: '/nonexistent/agentd-data', writable: true }],
      }),
    ).toThrow(
      new ConnectorError(
        'shell connector: path "/nonexistent/agentd-data" does not exist; create it or remove it from connectors.shell.paths',
      ),
    );
  });
});
