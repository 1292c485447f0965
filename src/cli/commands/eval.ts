import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import { compareResults, comparisonReport, hasRegression } from '../../evals/compare.ts';
import { caseLine, casesFromRuns, parseRunFilter } from '../../evals/dataset.ts';
import { buildEvaluators } from '../../evals/evaluators/index.ts';
import { type Judge, resolveJudge } from '../../evals/judge.ts';
import { keepResult } from '../../evals/kept-results.ts';
import { loadOnlineSettings, onlineSource, scoreOnline } from '../../evals/online.ts';
import { htmlReport } from '../../evals/reports/html.ts';
import { junitReport } from '../../evals/reports/junit.ts';
import { terminalReport, textTable } from '../../evals/reports/terminal.ts';
import { type EvalResult, loadResult } from '../../evals/result.ts';
import { isFinished } from '../../evals/run-record.ts';
import { type Progress, runSuite, scoreRuns } from '../../evals/runner.ts';
import { loadSuite, relativeToCwd, selectCases } from '../../evals/suite.ts';
import { openStore } from '../../store/open-store.ts';
import type { Store } from '../../store/store.ts';
import { clip, paint, printNotice } from '../format.ts';

export interface EvalRunFlags {
  out?: string;
  json?: string;
  junit?: string;
  html?: string;
  failUnder?: number;
  concurrency?: number;
  trials?: number;
  tag?: string[];
  case?: string[];
}

function progressLine(progress: Progress): void {
  if (progress.type === 'started') {
    process.stderr.write(
      paint('dim', `running ${progress.total} case run${progress.total === 1 ? '' : 's'}\n`),
    );
    return;
  }
  const t = progress.trial;
  const width = String(progress.total).length;
  const mark =
    t.error || t.scores.some((s) => s.error)
      ? paint('yellow', '!')
      : t.scores.every((s) => s.pass)
        ? paint('green', '✓')
        : paint('red', '✗');
  const facts = [
    t.score === null ? 'no score' : t.score.toFixed(2),
    t.runId ?? '',
    t.error
      ? clip(t.error, 100)
      : `${t.status ?? ''}${t.durationMs ? `, ${(t.durationMs / 1000).toFixed(1)} s` : ''}`,
  ].filter(Boolean);
  process.stderr.write(
    `[${String(progress.done).padStart(width)}/${progress.total}] ${mark} ${progress.case.id}${progress.trials > 1 ? ` (trial ${t.trial})` : ''}  ${paint('dim', facts.join(' · '))}\n`,
  );
}

function writeFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Writes the three report files; returns their paths. */
function writeReports(
  result: EvalResult,
  flags: Pick<EvalRunFlags, 'out' | 'json' | 'junit' | 'html'>,
): string[] {
  const out = flags.out ?? 'eval-results';
  const files = {
    json: flags.json ?? join(out, 'result.json'),
    junit: flags.junit ?? join(out, 'junit.xml'),
    html: flags.html ?? join(out, 'report.html'),
  };
  writeFile(files.json, `${JSON.stringify(result, null, 2)}\n`);
  writeFile(files.junit, junitReport(result));
  writeFile(files.html, htmlReport(result));
  return [files.json, files.junit, files.html];
}

/** The exit code for `--fail-under`: 1 when the score is under it (or there is no score). */
function gate(result: EvalResult, failUnder: number | undefined): number {
  if (failUnder === undefined) return 0;
  const score = result.summary.score;
  if (score === null) {
    process.stderr.write(
      `${paint('red', 'fail:')} no case was scored, so the suite cannot reach --fail-under ${failUnder}\n`,
    );
    return 1;
  }
  if (score < failUnder) {
    process.stderr.write(
      `${paint('red', 'fail:')} suite score ${score.toFixed(4)} is under ${failUnder}\n`,
    );
    return 1;
  }
  process.stderr.write(
    paint('green', `pass: suite score ${score.toFixed(4)} is at least ${failUnder}\n`),
  );
  return 0;
}

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(loadConfig());
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Ctrl-C stops the runs in flight (they end cancelled) and the command exits 130. */
function interruptible(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const stop = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write(
      paint('yellow', '\ncancelling the runs in flight (Ctrl-C again quits at once)\n'),
    );
    controller.abort(new AgentdError('usage', 'cancelled'));
  };
  process.on('SIGINT', stop);
  return { signal: controller.signal, dispose: () => process.off('SIGINT', stop) };
}

/** `agentd eval run <suite.yaml>` */
export async function evalRunCommand(suitePath: string, flags: EvalRunFlags): Promise<number> {
  const config = loadConfig();
  const suite = await loadSuite(suitePath, config);
  const cases = selectCases(suite, { tags: flags.tag ?? [], ids: flags.case ?? [] });
  if (cases.length === 0) {
    throw new AgentdError(
      'usage',
      `${suitePath}: no case has ${flags.case?.length ? `the id ${flags.case.join(' or ')}` : `the tag ${flags.tag!.join(' or ')}`} (the suite has ${suite.cases.length} cases)`,
    );
  }
  let judge: Judge | undefined;
  if (suite.judge) {
    const resolved = await resolveJudge(suite.judge, suitePath, config);
    for (const notice of resolved.notices) printNotice(notice);
    judge = resolved.judge;
  }
  const { signal, dispose } = interruptible();
  // Tools that work on files take the process's folder as theirs: the suite's cwd, for the run.
  const home = process.cwd();
  const reports = {
    out: resolve(flags.out ?? 'eval-results'),
    ...(flags.json ? { json: resolve(flags.json) } : {}),
    ...(flags.junit ? { junit: resolve(flags.junit) } : {}),
    ...(flags.html ? { html: resolve(flags.html) } : {}),
  };
  let result: EvalResult;
  let kept: string;
  try {
    process.chdir(suite.cwd);
    [result, kept] = await withStore(async (store) => {
      const done = await runSuite({
        suite,
        cases,
        store,
        config,
        ...(judge ? { judge } : {}),
        ...(flags.concurrency ? { concurrency: flags.concurrency } : {}),
        ...(flags.trials ? { trials: flags.trials } : {}),
        signal,
        onProgress: progressLine,
        onNotice: printNotice,
      });
      return [done, await keepResult(store, done)] as const;
    });
  } catch (error) {
    if (signal.aborted) {
      process.stderr.write(`${paint('yellow', 'cancelled:')} no reports written\n`);
      return 130;
    }
    throw error;
  } finally {
    process.chdir(home);
    dispose();
  }
  process.stdout.write(`\n${terminalReport(result)}`);
  const files = writeReports(result, reports);
  process.stderr.write(
    paint('dim', `wrote ${files.map(relativeToCwd).join(', ')}; kept as ${kept} (agentd serve)\n`),
  );
  return gate(result, flags.failUnder ?? suite.failUnder);
}

export interface EvalScoreFlags {
  suite?: string;
  evaluator?: string[];
  judge?: string;
  judgeScript?: string;
  json?: string;
  failUnder?: number;
}

/** `agentd eval score <run-id...>`: scores recorded runs without running them again. */
export async function evalScoreCommand(ids: string[], flags: EvalScoreFlags): Promise<number> {
  const config = loadConfig();
  if (!flags.suite && !flags.evaluator?.length) {
    throw new AgentdError(
      'usage',
      'name the evaluators: --suite <suite.yaml> (its evaluators, judge and cases) or --evaluator <name> (repeatable)',
    );
  }
  const suite = flags.suite ? await loadSuite(flags.suite, config, { agents: false }) : undefined;
  const evaluators = flags.evaluator?.length
    ? await buildEvaluators(flags.evaluator, {
        file: '--evaluator',
        dir: process.cwd(),
        field: 'evaluator',
      })
    : suite!.evaluators;
  const judgeSettings = flags.judge
    ? { model: flags.judge, ...(flags.judgeScript ? { script: flags.judgeScript } : {}) }
    : suite?.judge;
  let judge: Judge | undefined;
  if (judgeSettings) {
    const resolved = await resolveJudge(judgeSettings, flags.suite ?? '--judge', config);
    for (const notice of resolved.notices) printNotice(notice);
    judge = resolved.judge;
  } else {
    const needs = evaluators.find((e) => e.judge === 'always');
    if (needs) {
      throw new AgentdError(
        'usage',
        `${needs.name} needs a judge model: add --judge provider/model-id`,
      );
    }
  }
  const result = await withStore(async (store) => {
    const runIds: string[] = [];
    for (const id of ids) {
      const run = await store.getRun(id);
      if (!run) {
        throw new AgentdError(
          'run_not_found',
          `no run "${id}" (or the prefix matches several): see agentd runs list`,
        );
      }
      if (!isFinished(run.status)) {
        throw new AgentdError(
          'usage',
          `run ${run.id} is ${run.status}, not finished: score it once it ends (agentd runs show ${run.id})`,
        );
      }
      runIds.push(run.id);
    }
    const scored = await scoreRuns({
      store,
      runIds,
      evaluators,
      name: suite?.name ?? 'recorded runs',
      ...(suite ? { path: suite.shownAs, cases: suite.cases } : {}),
      ...(judge ? { judge } : {}),
    });
    await keepResult(store, scored);
    return scored;
  });
  process.stdout.write(terminalReport(result));
  if (flags.json) {
    writeFile(flags.json, `${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(paint('dim', `wrote ${flags.json}\n`));
  }
  return gate(result, flags.failUnder);
}

/** `agentd eval dataset from-runs`: recorded runs as dataset cases, to review and edit. */
export async function evalFromRunsCommand(flags: {
  filter?: string[];
  limit?: number;
  output?: string;
}): Promise<number> {
  const filter = parseRunFilter(flags.filter ?? [], flags.limit ?? 50);
  const cases = await withStore((store) => casesFromRuns(store, filter));
  if (cases.length === 0) {
    process.stderr.write(
      `no recorded runs match (${filter.statuses.join(', ')}${flags.filter?.length ? `; ${flags.filter.join(', ')}` : ''}): see agentd runs list\n`,
    );
    return 1;
  }
  const text = `${cases.map(caseLine).join('\n')}\n`;
  if (flags.output) {
    writeFile(flags.output, text);
    process.stderr.write(
      `wrote ${cases.length} case${cases.length === 1 ? '' : 's'} to ${relativeToCwd(flags.output)}: review each expected_trajectory and expected_response (they are what the runs did, not what they should have done), add assertions and tags\n`,
    );
  } else {
    process.stdout.write(text);
  }
  return 0;
}

/** `agentd eval compare <a.json> <b.json>`: what changed from A to B, and whether it is noise. */
export async function evalCompareCommand(
  a: string,
  b: string,
  flags: { json?: boolean; failOnRegression?: boolean },
): Promise<number> {
  const comparison = compareResults(loadResult(a), loadResult(b));
  if (flags.json) process.stdout.write(`${JSON.stringify(comparison, null, 2)}\n`);
  else process.stdout.write(comparisonReport(comparison, textTable));
  if (flags.failOnRegression && hasRegression(comparison)) {
    process.stderr.write(`${paint('red', 'fail:')} B is worse than A beyond run-to-run noise\n`);
    return 1;
  }
  return 0;
}

/**
 * `agentd eval online`: the scores online evaluation kept, newest runs first, with each
 * evaluator's mean; `--score <run-id>` scores a run now (what agentd run starts in the
 * background when the sample takes a run).
 */
export async function evalOnlineCommand(flags: {
  score?: string;
  force?: boolean;
  run?: string;
  limit?: number;
  json?: boolean;
}): Promise<number> {
  const config = loadConfig();
  if (flags.score) return scoreOnlineNow(flags.score, flags.force ?? false);
  const online = config.onlineEval;
  const scores = await withStore(async (store) => {
    const runId = flags.run ? (await store.getRun(flags.run))?.id : undefined;
    if (flags.run && !runId) {
      throw new AgentdError(
        'run_not_found',
        `no run "${flags.run}" (or the prefix matches several): see agentd runs list`,
      );
    }
    return store.listEvalScores({
      source: onlineSource,
      ...(runId ? { runId } : {}),
      runs: flags.limit ?? 20,
    });
  });
  if (flags.json) {
    for (const s of scores) process.stdout.write(`${JSON.stringify(s)}\n`);
    return 0;
  }
  process.stdout.write(
    online
      ? `online evaluation: ${Math.round(online.sample * 10000) / 100}% of finished runs${online.agents ? ` of ${online.agents.join(', ')}` : ''} (online_eval in ${config.configPath})\n`
      : `online evaluation is off: add online_eval to ${config.configPath} (see docs/evals.md)\n`,
  );
  if (scores.length === 0) {
    process.stdout.write('no runs scored yet\n');
    return 0;
  }
  const runs = new Set(scores.map((s) => s.runId));
  const rows = scores.map((s) => [
    s.runId,
    s.agent ?? '',
    s.scoredAt.replace('T', ' ').replace(/\.\d+Z$/, ''),
    s.evaluator,
    s.score.toFixed(2),
    s.error ? 'error' : s.pass ? 'pass' : 'fail',
    clip(s.explanation, 80),
  ]);
  process.stdout.write(
    `\n${textTable(['run', 'agent', 'scored (UTC)', 'evaluator', 'score', 'verdict', 'explanation'], rows)}\n\n`,
  );
  const byEvaluator = new Map<string, { sum: number; passed: number; n: number }>();
  for (const s of scores) {
    const e = byEvaluator.get(s.evaluator) ?? { sum: 0, passed: 0, n: 0 };
    e.sum += s.score;
    e.n++;
    if (s.pass) e.passed++;
    byEvaluator.set(s.evaluator, e);
  }
  process.stdout.write(
    `${textTable(
      ['evaluator', `mean (${runs.size} run${runs.size === 1 ? '' : 's'})`, 'passed'],
      [...byEvaluator].map(([name, e]) => [
        name,
        (e.sum / e.n).toFixed(2),
        `${Math.round((100 * e.passed) / e.n)}%`,
      ]),
    )}\n`,
  );
  return 0;
}

async function scoreOnlineNow(id: string, force: boolean): Promise<number> {
  const config = loadConfig();
  const stamp = () => new Date().toISOString();
  const settings = await loadOnlineSettings(config);
  if (!settings) {
    throw new AgentdError(
      'config_invalid',
      `online evaluation is off: add online_eval to ${config.configPath} (see docs/evals.md)`,
    );
  }
  let judge: Judge | undefined;
  if (settings.judge) {
    const resolved = await resolveJudge(settings.judge, config.configPath, config);
    for (const notice of resolved.notices) process.stderr.write(`${stamp()} note: ${notice}\n`);
    judge = resolved.judge;
  }
  return withStore(async (store) => {
    const run = await store.getRun(id);
    if (!run) {
      throw new AgentdError(
        'run_not_found',
        `no run "${id}" (or the prefix matches several): see agentd runs list`,
      );
    }
    const outcome = await scoreOnline({
      store,
      runId: run.id,
      settings,
      ...(judge ? { judge } : {}),
      force,
    });
    if (!outcome.scored) {
      process.stdout.write(`${stamp()} run ${run.id}: not scored: ${outcome.reason}\n`);
      return 0;
    }
    const parts = outcome.scores.map(
      (s) =>
        `${s.evaluator} ${s.error ? 'error' : `${s.score.toFixed(2)} ${s.pass ? 'pass' : 'fail'}`}`,
    );
    process.stdout.write(
      `${stamp()} run ${run.id}: ${parts.join(', ') || 'no evaluator applied'}\n`,
    );
    return 0;
  });
}
