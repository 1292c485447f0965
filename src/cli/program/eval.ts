import type { Command } from 'commander';
import type { EvalRunFlags, EvalScoreFlags } from '../commands/eval.ts';
import type { CommandContext } from './command-context.ts';
import { collect, positiveInt, unitScore } from './option-parsers.ts';

/** `agentd eval`: suites of cases, recorded runs, datasets, comparisons, online scores. */
export function registerEval(program: Command, context: CommandContext): void {
  const evals = program
    .command('eval')
    .description('score agents: suites of cases, recorded runs, comparisons, online sampling');
  evals
    .command('run')
    .description(
      'run a suite: each case through its agent, scored, with JSON, JUnit and HTML reports',
    )
    .argument('<suite.yaml>')
    .option('-o, --out <dir>', 'folder for result.json, junit.xml and report.html', 'eval-results')
    .option('--json <file>', 'the JSON result here instead')
    .option('--junit <file>', 'the JUnit XML here instead')
    .option('--html <file>', 'the HTML report here instead')
    .option('--fail-under <score>', 'exit 1 when the suite score is under this (0 to 1)', unitScore)
    .option('--concurrency <n>', "cases at once (default: the suite's, else 4)", positiveInt)
    .option('--trials <n>', "runs per case (default: the suite's, else 1)", positiveInt)
    .option('--tag <tag>', 'only cases with this tag (repeatable)', collect, [])
    .option('--case <id>', 'only this case (repeatable)', collect, [])
    .action(async (suite: string, flags: EvalRunFlags) => {
      const { evalRunCommand } = await import('../commands/eval.ts');
      context.exit(await evalRunCommand(suite, flags));
    });
  evals
    .command('score')
    .description('score recorded runs without running them again')
    .argument('<run-id...>', 'run ids or unique prefixes')
    .option('--suite <suite.yaml>', "the suite's evaluators, judge, and cases made from these runs")
    .option('--evaluator <name>', "an evaluator (repeatable; instead of the suite's)", collect, [])
    .option('--judge <provider/model-id>', 'the judge model')
    .option(
      '--judge-script <file>',
      'scripted verdicts: the judge for scripted/*, else the offline fallback',
    )
    .option('--json <file>', 'write the result (for eval compare)')
    .option('--fail-under <score>', 'exit 1 when the mean score is under this (0 to 1)', unitScore)
    .action(async (ids: string[], flags: EvalScoreFlags) => {
      const { evalScoreCommand } = await import('../commands/eval.ts');
      context.exit(await evalScoreCommand(ids, flags));
    });
  evals
    .command('dataset')
    .description('datasets of cases (JSONL)')
    .command('from-runs')
    .description('recorded runs as cases: the task, the answer and the calls, to review and edit')
    .option(
      '--filter <key=value>',
      'agent=, status= (default completed), since=/until= (date or age: 7d, 12h), task=, id=, tag= (id and tag repeatable)',
      collect,
      [],
    )
    .option('-n, --limit <n>', 'at most this many runs, newest first', positiveInt, 50)
    .option('-o, --output <file>', 'write the JSONL here instead of stdout')
    .action(async (flags: { filter?: string[]; limit?: number; output?: string }) => {
      const { evalFromRunsCommand } = await import('../commands/eval.ts');
      context.exit(await evalFromRunsCommand(flags));
    });
  evals
    .command('compare')
    .description('per-evaluator deltas, per-case regressions, and whether a change is beyond noise')
    .argument('<a.json>', 'the result before (result.json of eval run or eval score)')
    .argument('<b.json>', 'the result after')
    .option('--json', 'the comparison as JSON')
    .option('--fail-on-regression', 'exit 1 when B is worse than A beyond run-to-run noise')
    .action(async (a: string, b: string, flags: { json?: boolean; failOnRegression?: boolean }) => {
      const { evalCompareCommand } = await import('../commands/eval.ts');
      context.exit(await evalCompareCommand(a, b, flags));
    });
  evals
    .command('online')
    .description('scores online evaluation kept for finished runs (online_eval in config.yaml)')
    .option('--run <run-id>', "only this run's scores")
    .option('-n, --limit <n>', 'scores of at most this many runs, newest first', positiveInt, 20)
    .option('--json', 'one JSON object per score')
    .option('--score <run-id>', 'score this finished run now, if the sample takes it')
    .option('--force', 'with --score: score it even if the sample does not take it')
    .action(
      async (flags: {
        run?: string;
        limit?: number;
        json?: boolean;
        score?: string;
        force?: boolean;
      }) => {
        const { evalOnlineCommand } = await import('../commands/eval.ts');
        context.exit(await evalOnlineCommand(flags));
      },
    );
}
