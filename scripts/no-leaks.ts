/**
 * Runs a command (a CI step, a script) and fails when it leaves a process running or a file
 * in the temp folder: every script ends what it starts (its process groups, not the subshell
 * of a shell function) and removes what it makes.
 *
 *   node scripts/no-leaks.ts bash scripts/mcp-gateway-conformance.sh
 *
 * The command gets a temp folder of its own as TMPDIR and a marker in its environment that
 * every process it starts inherits. After it exits, a process with the marker still alive
 * (after a grace of about 2 s) is reported and killed, and anything left in the temp folder
 * is reported and removed. Exits with the command's status, or 1 when it leaked.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endSurvivors } from './process-leaks.ts';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: node scripts/no-leaks.ts <command> [args...]');
  process.exit(2);
}
const root = mkdtempSync(join(tmpdir(), 'agentd-no-leaks-'));
const marker = `AGENTD_LEAK_MARKER=${root}`;
const child = spawn(command, args, {
  stdio: 'inherit',
  env: {
    // Node's compile cache stays where it is between runs, or every run would start cold.
    NODE_COMPILE_CACHE: join(tmpdir(), 'node-compile-cache'),
    ...process.env,
    TMPDIR: root,
    AGENTD_LEAK_MARKER: root,
  },
});
// The command ends its own processes; a Ctrl-C meant for it reaches it (same process group).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => {});
const status = await new Promise<number>((resolve) => {
  child.on('error', (error) => {
    console.error(`no-leaks: could not start ${command}: ${error.message}`);
    resolve(127);
  });
  // 'exit', not 'close': a process it leaked may hold its stdout open
  child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
});

const problems: string[] = [];
for (const { pid, command: line } of await endSurvivors(marker, root)) {
  problems.push(`process ${pid} outlived it: ${line.slice(0, 200)}`);
}
for (const name of readdirSync(root)) problems.push(`left in the temp folder: ${name}`);
rmSync(root, { recursive: true, force: true });
for (const problem of problems) console.error(`no-leaks: ${[command, ...args].join(' ')}: ${problem}`);
process.exit(problems.length > 0 ? 1 : status);
