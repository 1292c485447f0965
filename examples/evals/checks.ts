import { defineEvaluator } from 'agentd';

/**
 * A custom evaluator: every number of three or more digits in the final answer must appear
 * in a tool result or in the task (a cheap, deterministic check against invented figures).
 */
export const numbersFromTools = defineEvaluator({
  name: 'numbers_from_tools',
  level: 'turn',
  threshold: 1,
  evaluate({ run }) {
    if (run.answer === undefined || run.calls.length === 0) return undefined;
    const evidence = [
      run.task,
      ...run.calls.map((c) => (typeof c.output === 'string' ? c.output : JSON.stringify(c.output))),
    ].join('\n');
    const numbers = (run.answer.match(/\d[\d,]*(?:\.\d+)?/g) ?? []).filter(
      (n) => n.replaceAll(',', '').replace('.', '').length >= 3,
    );
    const invented = numbers.filter((n) => !evidence.includes(n));
    return {
      score: numbers.length ? 1 - invented.length / numbers.length : 1,
      explanation: invented.length
        ? `in no tool result: ${invented.join(', ')}`
        : `all ${numbers.length} figures come from tool results or the task`,
    };
  },
});
