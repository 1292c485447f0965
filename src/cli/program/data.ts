import { type Command, InvalidArgumentError } from 'commander';
import type { ExportKind } from '../../data/export.ts';
import type { DataDesignFlags, DataExportFlags } from '../commands/data.ts';
import type { CommandContext } from './command-context.ts';
import { collect, positiveInt, unitScore } from './option-parsers.ts';

function choice<T extends string>(allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`"${value}" is not one of ${allowed.join(', ')}`);
    }
    return value as T;
  };
}

/** `agentd data`: datasets from runs with licence lineage, and synthetic data from a design. */
export function registerData(program: Command, context: CommandContext): void {
  const data = program
    .command('data')
    .description(
      'datasets: runs as SFT, preference or eval data with licence lineage; synthetic data from a design',
    );
  data
    .command('export')
    .description(
      'stored runs as a dataset folder: rows, their lineage, a manifest (dataset card) to verify',
    )
    .argument(
      '<kind>',
      'sft (chat fine-tuning), preference (chosen/rejected pairs), eval (cases for agentd eval) or trajectories (environment episodes)',
      choice(['sft', 'preference', 'eval', 'trajectories'] as const),
    )
    .requiredOption('-o, --out <dir>', 'the dataset folder to write (must not hold a dataset yet)')
    .option(
      '--format <format>',
      'openai (fine-tuning format) or hf (Hugging Face messages); sft and preference only',
      choice(['openai', 'hf'] as const),
      'openai',
    )
    .option(
      '--filter <key=value>',
      'agent=, status= (default completed), since=/until= (date or age: 30d, 12h), task= (words), id=, tag= (id and tag repeatable)',
      collect,
      [],
    )
    .option(
      '--tag <tag>',
      'only runs with this tag, key=value or a name (repeatable: every one must match)',
      collect,
      [],
    )
    .option(
      '--min-score <score>',
      'only runs whose kept eval scores average at least this (0 to 1)',
      unitScore,
    )
    .option(
      '--max-score <score>',
      'only runs whose kept eval scores average at most this',
      unitScore,
    )
    .option('--exclude <run-id>', 'leave this run out (repeatable)', collect, [])
    .option(
      '-n, --limit <n>',
      'at most this many runs, newest first (trajectories: episodes)',
      positiveInt,
    )
    .option(
      '--allow-terms <provider/model>',
      'keep rows from this model although its terms forbid training (your contract allows it; recorded in the manifest; repeatable)',
      collect,
      [],
    )
    .option('--allow-reason <text>', 'why --allow-terms is right (recorded with it)')
    .option(
      '--refuse-unknown',
      'leave out rows from models whose terms are unknown (default: kept and flagged)',
    )
    .action(async (kind: ExportKind, flags: DataExportFlags) => {
      const { dataExportCommand } = await import('../commands/data.ts');
      context.exit(await dataExportCommand(kind, flags, context.version));
    });
  data
    .command('verify')
    .description(
      "check a dataset folder against its manifest: every file's digest, every row's hash, the terms",
    )
    .argument('<dir>')
    .action(async (dir: string) => {
      const { dataVerifyCommand } = await import('../commands/data.ts');
      context.exit(await dataVerifyCommand(dir));
    });
  data
    .command('design')
    .description(
      'generate a synthetic dataset from a design file (samplers, LLM columns, judges, validations)',
    )
    .argument('<design.yaml>')
    .option(
      '-o, --out <dir>',
      "the dataset folder (default: ./<the design's name>; a stopped generation there resumes)",
    )
    .option(
      '--preview <n>',
      'generate this many rows and print them; nothing is written',
      positiveInt,
    )
    .option('--rows <n>', "rows to generate (default: the design's)", positiveInt)
    .option('--concurrency <n>', "rows at once (default: the design's, else 8)", positiveInt)
    .option('--restart', 'discard a stopped generation in the folder and start again')
    .action(async (file: string, flags: DataDesignFlags) => {
      const { dataDesignCommand } = await import('../commands/data.ts');
      context.exit(await dataDesignCommand(file, flags, context.version));
    });
}
