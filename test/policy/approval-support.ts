import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/cli.ts';

/** A deployer agent: `deploy` appends to deployed.log and needs a person's approval. */
export function approvalProject(dir: string, timeout = '10m'): string {
  // $AGENTD_HOME/agents/deployer: an agent of this machine when `dir` is AGENTD_HOME
  const project = join(dir, 'agents', 'deployer');
  mkdirSync(join(project, 'policies'), { recursive: true });
  writeFileSync(
    join(project, 'tools.ts'),
    `import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineTool, z } from ${JSON.stringify(`${repoRoot}src/index.ts`)};
export const deploy = defineTool({
  name: 'deploy', description: 'deploy', input: z.object({ target: z.string() }),
  async execute({ target }) {
    appendFileSync(join(${JSON.stringify(project)}, 'deployed.log'), target + '\\n');
    return 'deployed ' + target;
  },
});
`,
  );
  writeFileSync(
    join(project, 'script.yaml'),
    `turns:
  - text: deploying
    tool_calls:
      - { name: deploy, input: { target: prod } }
  - text: "done: {{result:deploy}}"
`,
  );
  writeFileSync(
    join(project, 'agent.yaml'),
    `name: deployer\nmodel: scripted/deployer\nscript: script.yaml\ntools:\n  - module: tools.ts\npolicy:\n  approval_timeout: ${timeout}\n`,
  );
  writeFileSync(
    join(project, 'policies', 'deploy.cedar'),
    `@id("deploy-needs-a-person")\n@approval("required")\npermit (principal == Agent::"deployer", action == Action::"deploy", resource);\n`,
  );
  return project;
}
