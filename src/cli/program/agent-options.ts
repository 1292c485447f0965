import { type Command, Option } from 'commander';
import type { Limits } from '../../core/events.ts';
import { type EffortLevel, effortLevels } from '../../models/catalog.ts';
import { duration, positiveInt, positiveNumber } from './option-parsers.ts';

export interface AgentFlags {
  json?: boolean;
  model?: string;
  effort?: EffortLevel;
  maxTurns?: number;
  maxTokens?: number;
  maxCostUsd?: number;
  maxTime?: number;
}

/** The options `run` and `runs resume` share: the model, its effort and the budgets. */
export function agentOptions(command: Command): Command {
  return command
    .option('--json', 'print every event as a JSON line instead of the readable stream')
    .option('-m, --model <provider/model-id>', "use this model instead of the spec's")
    .addOption(new Option('--effort <level>', 'how hard the model thinks').choices(effortLevels))
    .option('--max-turns <n>', 'stop after this many model calls', positiveInt)
    .option('--max-tokens <n>', 'stop after this many tokens (input + output)', positiveInt)
    .option('--max-cost-usd <usd>', 'stop after spending this much', positiveNumber)
    .option('--max-time <duration>', 'stop after this long, e.g. 30m', duration);
}

/** The budgets the flags set, and only those. */
export function limitsOf(flags: AgentFlags): Partial<Limits> {
  const limits: Partial<Limits> = {};
  if (flags.maxTurns !== undefined) limits.maxTurns = flags.maxTurns;
  if (flags.maxTokens !== undefined) limits.maxTokens = flags.maxTokens;
  if (flags.maxCostUsd !== undefined) limits.maxCostUsd = flags.maxCostUsd;
  if (flags.maxTime !== undefined) limits.maxTimeMs = flags.maxTime;
  return limits;
}
