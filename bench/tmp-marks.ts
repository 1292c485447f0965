import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { FakeModelServer } from './fake-model/server.ts';
import { instructions, stepLimit, taskFor, workloads } from './workloads.ts';
const server = await FakeModelServer.start(1);
writeFileSync('/tmp/sp/agent.yaml', ['name: s','model: openai-compatible/bench-model','provider:',`  base_url: ${server.baseUrl('a')}`,'instructions: |',`  ${instructions}`,'tools:',`  - module: /work/main/bench/agents/lookup-tools.ts`,'limits:',`  max_turns: ${stepLimit(workloads.a)}`,''].join('\n'));
const all = new Map<string, number[]>();
for (let i = 0; i < 22; i++) {
  const c = spawn(process.execPath, [...(process.env.NODE_EXTRA ? process.env.NODE_EXTRA.split(' ') : []), process.argv[2]!, 'run', '/tmp/sp/agent.yaml', taskFor(`m${i}`)], { env: { ...process.env, AGENTD_HOME: '/tmp/sp/home' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let e = ''; c.stderr.on('data', (d) => (e += d));
  await new Promise((r) => c.once('exit', r));
  if (i < 2) continue;
  for (const m of e.matchAll(/^T (.+) ([\d.]+)$/gm)) { if (!all.has(m[1]!)) all.set(m[1]!, []); all.get(m[1]!)!.push(Number(m[2])); }
}
for (const [k, v] of all) { console.log(k, v.map((x) => x.toFixed(0)).join(" ")); v.sort((a, b) => a - b); console.log(k.padEnd(16), 'median', v[v.length >> 1]!.toFixed(1), 'min', v[0]!.toFixed(1)); }
await server.close();
