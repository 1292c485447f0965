import type { Command } from 'commander';
import type { MemoryFilterFlags } from '../commands/memory.ts';
import type { CommandContext } from './command-context.ts';
import { collect, positiveInt } from './option-parsers.ts';

/** `agentd memory`: long-term memories, where they came from, and forgetting them. */
export function registerMemory(program: Command, context: CommandContext): void {
  const memoryFilters = (command: Command): Command =>
    command
      .option(
        '--actor <id>',
        "only this actor's memories (/actor/<id>/... and those from their runs)",
      )
      .option('--agent <name>', "only this agent's namespace (/agent/<name>/...)")
      .option('--team <name>', "only this team's namespace (/team/<name>/...)")
      .option('--namespace <path>', 'only under this namespace (repeatable)', collect, [])
      .option('--kind <kind>', 'fact, preference, summary or episode (repeatable)', collect, [])
      .option('--json', 'one JSON object per line');
  const memory = program
    .command('memory')
    .description("agents' long-term memory: list, search, show, forget, export");
  memoryFilters(memory.command('list').description('active memories, newest first'))
    .option('--all', 'superseded versions too')
    .option('-n, --limit <n>', 'how many', positiveInt, 50)
    .action(async (flags: MemoryFilterFlags & { all?: boolean }) => {
      const { memoryListCommand } = await import('../commands/memory.ts');
      context.exit(await memoryListCommand(flags));
    });
  memoryFilters(
    memory
      .command('search')
      .description('hybrid search (full-text and vectors), or full-text without an embedding model')
      .argument('<query>'),
  )
    .option('-n, --limit <n>', 'how many', positiveInt, 10)
    .action(async (query: string, flags: MemoryFilterFlags) => {
      const { memorySearchCommand } = await import('../commands/memory.ts');
      context.exit(await memorySearchCommand(query, flags));
    });
  memory
    .command('show')
    .description('a memory with its provenance and the versions it replaced')
    .argument('<id>', 'a memory id or a unique prefix of one')
    .option('--json', 'as JSON')
    .action(async (id: string, flags: { json?: boolean }) => {
      const { memoryShowCommand } = await import('../commands/memory.ts');
      context.exit(await memoryShowCommand(id, flags));
    });
  memory
    .command('forget')
    .description('remove a memory (and the versions it replaced) from every index')
    .argument('<id>', 'a memory id or a unique prefix of one')
    .action(async (id: string) => {
      const { memoryForgetCommand } = await import('../commands/memory.ts');
      context.exit(await memoryForgetCommand(id));
    });
  memory
    .command('export')
    .description('every memory of an actor, as JSON lines')
    .option('--actor <id>', 'whose memories')
    .option('-o, --output <file>', 'write to a file instead of stdout')
    .action(async (flags: { actor?: string; output?: string }) => {
      const { memoryExportCommand } = await import('../commands/memory.ts');
      context.exit(await memoryExportCommand(flags));
    });
}
