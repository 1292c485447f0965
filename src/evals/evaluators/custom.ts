import { existsSync } from 'node:fs';
import { AgentdError, errorMessage } from '../../core/errors.ts';
import { importUserModule } from '../../tools/user-module.ts';
import type {
  CustomEvaluatorDefinition,
  CustomResult,
  EvalLevel,
  Evaluator,
  Outcome,
} from '../types.ts';
import { errorOutcome } from './common.ts';

/**
 * Loads a custom evaluator: `export` of the module at `path` (default: the default export),
 * a `defineEvaluator({...})` or a bare function of the evaluation context. `where` names the
 * setting for errors.
 */
export async function loadCustom(
  path: string,
  exportName: string | undefined,
  where: string,
): Promise<CustomEvaluatorDefinition & { exportName: string }> {
  if (!existsSync(path)) {
    throw new AgentdError(
      'spec_not_found',
      `${where}: ${path} not found (a TypeScript module of evaluators)`,
    );
  }
  let module: Record<string, unknown>;
  try {
    module = await importUserModule(path);
  } catch (error) {
    throw new AgentdError('spec_invalid', `${where}: ${errorMessage(error)}`);
  }
  const name = exportName ?? 'default';
  const value = module[name];
  if (typeof value === 'function') {
    return { exportName: name, evaluate: value as CustomEvaluatorDefinition['evaluate'] };
  }
  if (
    value &&
    typeof value === 'object' &&
    typeof (value as CustomEvaluatorDefinition).evaluate === 'function'
  ) {
    return { ...(value as CustomEvaluatorDefinition), exportName: name };
  }
  const exported = Object.keys(module).filter((k) => {
    const v = module[k];
    return typeof v === 'function' || (v && typeof v === 'object' && 'evaluate' in v);
  });
  throw new AgentdError(
    'spec_invalid',
    `${where}: ${path} has no evaluator export "${name}" (${exported.length ? `it exports ${exported.join(', ')}` : 'it exports no functions'}; write module#export)`,
  );
}

/** A custom result as an outcome; anything else it returns is an error outcome, not a crash. */
export function customOutcome(result: CustomResult): Outcome | undefined {
  if (result === undefined) return undefined;
  if (typeof result === 'number' || typeof result === 'boolean') {
    const score = Number(result);
    return valid(score)
      ? {
          score,
          explanation:
            typeof result === 'boolean' ? (result ? 'passed' : 'failed') : `scored ${score}`,
        }
      : invalid(result);
  }
  if (result && typeof result === 'object' && 'score' in result) {
    const score = Number(result.score);
    if (!valid(score)) return invalid(result.score);
    return {
      score,
      explanation: typeof result.explanation === 'string' ? result.explanation : `scored ${score}`,
      ...(result.details ? { details: result.details } : {}),
    };
  }
  return invalid(result);
}

function valid(score: number): boolean {
  return Number.isFinite(score) && score >= 0 && score <= 1;
}

function invalid(value: unknown): Outcome {
  return errorOutcome(
    `the evaluator returned ${JSON.stringify(value) ?? String(value)}, not a score from 0 to 1 (return a number, a boolean, or { score, explanation })`,
  );
}

export function custom(options: {
  name: string;
  level: EvalLevel;
  threshold: number;
  definition: CustomEvaluatorDefinition;
}): Evaluator {
  return {
    name: options.name,
    kind: 'custom',
    level: options.level,
    threshold: options.threshold,
    judge: 'sometimes',
    async evaluate(context) {
      return customOutcome(await options.definition.evaluate(context));
    },
  };
}
