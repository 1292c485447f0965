import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { FakeModelServer } from './fake-model/server.ts';
import { instructions, stepLimit, taskFor, workloads } from './workloads.ts';
const server = await FakeModelServer.start(1);
writeFileSync('/tmp/sp/agent.yaml', ['name: s','model: openai-compatible/bench-model','provider:',`  base_url: ${server.baseUrl('a')}`,'instructions: |',`  ${instructions}`,'tools:',`  - module: /work/main/bench/agents/lookup-tools.ts`,'limits:',`  max_turns: ${stepLimit(workloads.a)}`,''].join('\n'));
const [bin, n, ...extra] = process.argv.slice(2);
for (let i = 0; i < Number(n); i++) {
  const c = spawn(process.execPath, [...(i ? extra : []), bin!, 'run', '/tmp/sp/agent.yaml', taskFor(`p${i}`)], { env: { ...process.env, AGENTD_HOME: '/tmp/sp/home' }, stdio: 'ignore' });
  await new Promise((r) => c.once('exit', r));
}
await server.close();
