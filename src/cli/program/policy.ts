import type { Command } from 'commander';
import type { CommandContext } from './command-context.ts';

/** `agentd policy`: Cedar policy folders and stored policy sets. */
export function registerPolicy(program: Command, context: CommandContext): void {
  const policy = program
    .command('policy')
    .description(
      'Cedar policies for tool calls: validate, test, show the schema, replay past calls, draft',
    );
  policy
    .command('validate')
    .description("check a policy folder against the schema of an agent's tools")
    .argument('[dir]', "the folder of .cedar files (default: the agent's)")
    .option('--agent <agent.yaml>', 'the agent whose tools make the schema')
    .action(async (dir: string | undefined, options: { agent?: string }) => {
      const { policyValidateCommand } = await import('../commands/policy.ts');
      context.exit(await policyValidateCommand(dir, options));
    });
  policy
    .command('test')
    .description('decide each request of a cases file and compare with what it expects (for CI)')
    .argument('<cases.yaml>')
    .action(async (file: string) => {
      const { policyTestCommand } = await import('../commands/policy.ts');
      context.exit(await policyTestCommand(file));
    });
  policy
    .command('schema')
    .description("the Cedar schema an agent's policies are checked against")
    .option('--agent <agent.yaml>', 'the agent whose tools make the schema')
    .option('--json', "Cedar's JSON schema format")
    .action(async (options: { agent?: string; json?: boolean }) => {
      const { policySchemaCommand } = await import('../commands/policy.ts');
      context.exit(await policySchemaCommand(options));
    });
  policy
    .command('what-if')
    .description(
      'replay the tool calls of past runs against other policies: every decision that would change',
    )
    .argument('<dir>', 'the folder of .cedar files to try')
    .option('--since <date|age>', 'only runs started since, e.g. 7d, 12h or 2026-11-01')
    .option('--agent <agent.yaml>', "only this agent's runs (its tools make the schema)")
    .option('--json', 'every changed decision as a JSON line, then the summary')
    .action(async (dir: string, options: { since?: string; agent?: string; json?: boolean }) => {
      const { policyWhatIfCommand } = await import('../commands/policy.ts');
      context.exit(await policyWhatIfCommand(dir, options));
    });
  policy
    .command('draft')
    .description(
      "the agent's model writes Cedar for a requirement; agentd validates it and shows it (never activates it)",
    )
    .argument('<requirement>', 'what the policies should say, in plain language')
    .option(
      '--agent <agent.yaml>',
      'the agent whose tools make the schema (and whose model writes)',
    )
    .option('-m, --model <provider/model-id>', "write with this model instead of the agent's")
    .option('--save <file.cedar>', 'write the validated policies to this new file')
    .action(
      async (requirement: string, options: { agent?: string; model?: string; save?: string }) => {
        const { policyDraftCommand } = await import('../commands/policy.ts');
        context.exit(await policyDraftCommand(requirement, options));
      },
    );
  policy
    .command('save')
    .description('keep a folder of .cedar files in the store as the next version of a named set')
    .argument('<dir>', 'the policy folder')
    .requiredOption('--as <name>', 'the set (specs use it with policy: { set: <name> })')
    .option('--activate', 'also make this version the one in force (after checking it)')
    .option('--agent <agent.yaml>', "also check against this agent's own tools")
    .action(async (dir: string, options: { as: string; activate?: boolean; agent?: string }) => {
      const { policySaveCommand } = await import('../commands/policy.ts');
      context.exit(await policySaveCommand(dir, options));
    });
  policy
    .command('activate')
    .description('make a saved version of a set the one in force (an invalid one never is)')
    .argument('<name[@version]>', 'the set, and the version (default: the newest)')
    .option('--agent <agent.yaml>', "also check against this agent's own tools")
    .action(async (ref: string, options: { agent?: string }) => {
      const { policyActivateCommand } = await import('../commands/policy.ts');
      context.exit(await policyActivateCommand(ref, options));
    });
  policy
    .command('sets')
    .description('the policy sets in the store: versions, when saved, which is active')
    .option('--json', 'one JSON object per line, with the files')
    .action(async (options: { json?: boolean }) => {
      const { policySetsCommand } = await import('../commands/policy.ts');
      context.exit(await policySetsCommand(options));
    });
}
