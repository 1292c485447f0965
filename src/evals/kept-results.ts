import { newId } from '../core/ids.ts';
import type { Store } from '../store/store.ts';
import type { EvalResult } from './result.ts';

/**
 * Keeps a suite's result in the store (besides result.json), so `agentd serve` can list,
 * show and compare it; the id it is kept under (`evr_...`).
 */
export async function keepResult(store: Store, result: EvalResult): Promise<string> {
  const id = newId('evr', Date.parse(result.startedAt));
  const { summary } = result;
  await store.putEvalResult({
    id,
    suite: result.suite.name,
    startedAt: result.startedAt,
    score: summary.score,
    cases: summary.cases,
    passed: summary.passed,
    failed: summary.failed,
    errors: summary.errors,
    result: result as unknown as { [key: string]: unknown },
  });
  return id;
}
