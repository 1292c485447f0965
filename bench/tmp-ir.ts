import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { FakeModelServer } from './fake-model/server.ts';
import { instructions, stepLimit, taskFor, workloads } from './workloads.ts';
const server = await FakeModelServer.start(1);
writeFileSync('/tmp/sp/agent.yaml', ['name: s','model: openai-compatible/bench-model','provider:',`  base_url: ${server.baseUrl('a')}`,'instructions: |',`  ${instructions}`,'tools:',`  - module: ${process.env.TOOLS ?? '/work/main/bench/agents/lookup-tools.ts'}`,'limits:',`  max_turns: ${stepLimit(workloads.a)}`,''].join('\n'));
for (const bin of process.argv.slice(2)) {
  const run = (args: string[], pre: string[]) => new Promise<string>((ok) => { const c = spawn(pre[0] ?? process.execPath, [...pre.slice(1), ...(pre.length ? [process.execPath] : []), bin, ...args], { env: { ...process.env, AGENTD_HOME: '/tmp/sp/home' }, stdio: ['ignore', 'ignore', 'pipe'] }); let e = ''; c.stderr.on('data', (d) => (e += d)); c.once('exit', () => ok(e)); });
  await run(['run', '/tmp/sp/agent.yaml', taskFor('warm')], []);
  const out: string[] = [];
  for (const args of [['--version'], ['run', '/tmp/sp/agent.yaml', taskFor('ir')]]) {
    const e = await run(args, ['valgrind', '--tool=callgrind', '--callgrind-out-file=/dev/null']);
    out.push(`${args[0]} ${(Number(e.match(/Collected : (\d+)/)?.[1]) / 1e6).toFixed(0)}M`);
  }
  console.log(bin, out.join('  '));
}
await server.close();
