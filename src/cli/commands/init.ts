import { relative } from 'node:path';
import { AgentdError } from '../../core/errors.ts';
import { listTemplates, scaffoldAgent } from '../../definition/agent-template.ts';
import { paint, printNotice } from '../format.ts';

/** `agentd init <template> [dir]`, or `--list`. */
export function initCommand(
  template: string | undefined,
  dir: string | undefined,
  flags: { list?: boolean },
): number {
  if (flags.list || template === undefined) {
    if (!flags.list) {
      throw new AgentdError(
        'usage',
        `init: name a template (${listTemplates()
          .map((t) => t.name)
          .join(', ')}), e.g. agentd init coder my-coder`,
      );
    }
    for (const t of listTemplates())
      process.stdout.write(`${t.name.padEnd(16)} ${t.description}\n`);
    return 0;
  }
  const made = scaffoldAgent(template, dir);
  const shown = relative(process.cwd(), made.dir) || '.';
  process.stdout.write(
    `made ${shown}/ from the ${made.template.name} template (agent ${made.name})\n`,
  );
  if (made.demoRepository?.note) printNotice(made.demoRepository.note);
  const next = [
    `agentd run ${shown} "<task>"`,
    `agentd policy test ${shown}/policy-cases.yaml`,
    `agentd eval run ${shown}/evals/suite.yaml`,
  ];
  process.stdout.write(`${paint('dim', 'next:')}\n${next.map((line) => `  ${line}`).join('\n')}\n`);
  process.stdout.write(`${paint('dim', `see ${shown}/README.md`)}\n`);
  return 0;
}
