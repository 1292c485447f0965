import type { EventEmitter } from 'node:events';
import type { Config } from '../config/config.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type { RunEvent } from '../core/events.ts';
import { schemaIssue } from '../definition/yaml-file.ts';
import type { EvalScoreRecord, Store } from '../store/store.ts';
import { buildEvaluators } from './evaluators/index.ts';
import { type Judge, type JudgeSettings, resolveJudge } from './judge.ts';
import { isSampled } from './online-hook.ts';
import { isFinished, runRecord } from './run-record.ts';
import { scoreRun } from './score.ts';
import { judgeSchema, judgeSettings } from './suite.ts';
import type { Evaluator, Score } from './types.ts';

/** The source online scores are kept under. */
export const onlineSource = 'online';

export interface OnlineSettings {
  /** Share of finished runs scored (0..1). */
  sample: number;
  /** Only runs of these agents (all when absent). */
  agents?: string[];
  evaluators: Evaluator[];
  judge?: JudgeSettings;
}

/**
 * The `online_eval` settings of config.yaml, checked and built (custom evaluators loaded);
 * undefined when online evaluation is off. Paths are relative to AGENTD_HOME. Every mistake
 * is one line naming config.yaml and the field.
 */
export async function loadOnlineSettings(config: Config): Promise<OnlineSettings | undefined> {
  const raw = config.onlineEval;
  if (!raw) return undefined;
  const file = config.configPath;
  let judge: JudgeSettings | undefined;
  if (raw.judge) {
    const issue = schemaIssue(judgeSchema, raw.judge);
    if (issue) throw new AgentdError('config_invalid', `${file}: online_eval.judge.${issue}`);
    judge = judgeSettings(judgeSchema.parse(raw.judge), config.home);
  }
  const evaluators = await buildEvaluators(raw.evaluators, {
    file,
    dir: config.home,
    field: 'online_eval.evaluators',
  });
  if (!judge) {
    const needs = evaluators.find((e) => e.judge === 'always');
    if (needs) {
      throw new AgentdError(
        'config_invalid',
        `${file}: online_eval: ${needs.name} needs a judge model: add judge: { model: provider/model-id }`,
      );
    }
  }
  return {
    sample: raw.sample,
    ...(raw.agents ? { agents: raw.agents } : {}),
    evaluators,
    ...(judge ? { judge } : {}),
  };
}

export function toRecords(runId: string, scores: readonly Score[], at: string): EvalScoreRecord[] {
  return scores.map((s) => ({
    runId,
    source: onlineSource,
    evaluator: s.evaluator,
    kind: s.kind,
    level: s.level,
    score: s.score,
    pass: s.pass,
    threshold: s.threshold,
    explanation: s.explanation,
    ...(s.error ? { error: s.error } : {}),
    ...(s.judge ? { judge: { ...s.judge } } : {}),
    scoredAt: at,
  }));
}

export type OnlineOutcome = { scored: true; scores: Score[] } | { scored: false; reason: string };

/**
 * Scores one run for online evaluation and keeps the scores with it: only a finished run,
 * and only one the sample takes (unless `force`). Cases have no expectations here, so
 * evaluators that need them (correctness, trajectory) do not apply.
 */
export async function scoreOnline(options: {
  store: Store;
  runId: string;
  settings: OnlineSettings;
  judge?: Judge;
  force?: boolean;
  signal?: AbortSignal;
  now?: () => number;
}): Promise<OnlineOutcome> {
  const { settings } = options;
  const events = await options.store.readEvents(options.runId);
  if (events[0]?.type !== 'run.started') {
    throw new AgentdError('run_not_found', `no run "${options.runId}": see agentd runs list`);
  }
  const run = runRecord(events);
  if (!isFinished(run.status)) {
    return { scored: false, reason: `the run is ${run.status}, not finished` };
  }
  if (!options.force) {
    if (settings.agents && !settings.agents.includes(run.agent)) {
      return { scored: false, reason: `online_eval.agents does not include ${run.agent}` };
    }
    if (!isSampled(options.runId, settings.sample)) {
      return { scored: false, reason: `not in the ${Math.round(settings.sample * 100)}% sample` };
    }
  }
  const scores = await scoreRun(settings.evaluators, events, {
    ...(options.judge ? { judge: options.judge } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const at = new Date((options.now ?? Date.now)()).toISOString();
  await options.store.putEvalScores(toRecords(options.runId, scores, at));
  return { scored: true, scores };
}

/**
 * Online evaluation inside a long-lived process (`agentd serve`): finished runs are queued
 * and scored one at a time in the background, after they end; `close` drops the queue and
 * stops the scoring in flight.
 */
export class OnlineScorer {
  readonly #store: Store;
  readonly #settings: OnlineSettings;
  readonly #judge: Judge | undefined;
  readonly #log: (line: string) => void;
  readonly #queue: string[] = [];
  readonly #stop = new AbortController();
  #busy: Promise<void> | undefined;

  constructor(options: {
    store: Store;
    settings: OnlineSettings;
    judge?: Judge;
    log?: (line: string) => void;
  }) {
    this.#store = options.store;
    this.#settings = options.settings;
    this.#judge = options.judge;
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** Queues a finished run when the sample takes it (cheap for runs it does not). */
  afterRun(runId: string): void {
    if (this.#stop.signal.aborted || !isSampled(runId, this.#settings.sample)) return;
    this.#queue.push(runId);
    this.#busy ??= this.#drain();
  }

  /** Resolves when everything queued so far is scored. */
  async idle(): Promise<void> {
    while (this.#busy) await this.#busy;
  }

  async close(): Promise<void> {
    this.#queue.length = 0;
    this.#stop.abort();
    await this.#busy;
  }

  async #drain(): Promise<void> {
    try {
      for (let runId = this.#queue.shift(); runId; runId = this.#queue.shift()) {
        try {
          const outcome = await scoreOnline({
            store: this.#store,
            runId,
            settings: this.#settings,
            ...(this.#judge ? { judge: this.#judge } : {}),
            signal: this.#stop.signal,
          });
          if (outcome.scored) {
            const failed = outcome.scores.filter((s) => !s.pass).map((s) => s.evaluator);
            this.#log(
              `agentd serve: online eval of run ${runId}: ${outcome.scores.length} scores${failed.length ? `, not passed: ${failed.join(', ')}` : ''}`,
            );
          }
        } catch (error) {
          if (this.#stop.signal.aborted) return;
          this.#log(`agentd serve: online eval of run ${runId} failed: ${errorMessage(error)}`);
        }
      }
    } finally {
      this.#busy = undefined;
    }
  }
}

/**
 * Starts online evaluation for a server whose runs announce their events on `events`
 * ('event', RunEvent): each `run.finished` queues its run. Undefined when config.yaml has no
 * `online_eval`; a mistake in it is a one-line error here, before the server starts.
 */
export async function startOnlineScoring(
  store: Store,
  config: Config,
  events: EventEmitter,
  log: (line: string) => void,
): Promise<OnlineScorer | undefined> {
  const settings = await loadOnlineSettings(config);
  if (!settings) return undefined;
  let judge: Judge | undefined;
  if (settings.judge) {
    const resolved = await resolveJudge(settings.judge, config.configPath, config);
    for (const notice of resolved.notices) log(`agentd serve: online eval: ${notice}`);
    judge = resolved.judge;
  }
  const scorer = new OnlineScorer({ store, settings, ...(judge ? { judge } : {}), log });
  events.on('event', (event: RunEvent) => {
    if (event.type === 'run.finished') scorer.afterRun(event.runId);
  });
  log(
    `agentd serve: online eval scores ${Math.round(settings.sample * 10000) / 100}% of finished runs${settings.agents ? ` of ${settings.agents.join(', ')}` : ''}`,
  );
  return scorer;
}
