import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { AgentdError } from '../core/errors.ts';
import type { RunEvent, RunStatus } from '../core/events.ts';
import { REDACTED } from '../core/redact.ts';
import { FrameStore } from '../environments/frame-store.ts';
import { episodeTrajectory } from '../environments/trajectory.ts';
import { caseLine } from '../evals/dataset.ts';
import type { EvalCase, ExpectedCall } from '../evals/types.ts';
import { loadProviderTerms } from '../models/provider-terms.ts';
import { type ModelTerms, termsFor } from '../models/terms.ts';
import type { RunQuery, RunSummary, Store } from '../store/store.ts';
import { DatasetWriter } from './dataset-writer.ts';
import { type ChatFormat, preferenceRow, sftRow } from './formats.ts';
import type { DatasetManifest, RowModel } from './manifest.ts';
import { type Trajectory, trajectoryOf } from './trajectory.ts';

/** `trajectories`: the environment episodes of runs, one a line, each with its lineage block. */
export type ExportKind = 'sft' | 'preference' | 'eval' | 'trajectories';

/** Which stored runs an export reads (all given filters apply). */
export interface RunSelection {
  agent?: string;
  statuses: RunStatus[];
  /** ISO times. */
  since?: string;
  until?: string;
  /** Words in the task, or the start of the run id. */
  query?: string;
  /** Runs whose kept eval scores average at least this (runs without scores are left out). */
  minScore?: number;
  maxScore?: number;
  /** Only runs with every one of these tags. */
  tags?: string[];
  /** Only these runs (ids or prefixes). */
  runs?: string[];
  /** Never these runs (ids or prefixes). */
  exclude?: string[];
  /** At most this many runs, newest first (`trajectories`: this many episodes). */
  limit?: number;
}

export interface ExportOptions {
  store: Store;
  config: Pick<Config, 'modelTerms' | 'env' | 'home'>;
  kind: ExportKind;
  format: ChatFormat;
  selection: RunSelection;
  /** Models kept although their terms forbid training (recorded in the manifest). */
  allowTerms: readonly string[];
  /** Why (recorded with the override). */
  allowReason?: string;
  /** Leave out rows with a model whose terms are unknown, instead of flagging them. */
  refuseUnknown?: boolean;
  outDir: string;
  /**
   * Trajectories: copy the frames the lines name from the frame store into `frames/` of the
   * folder, so the dataset carries them (default true; false when the lines go to stdout).
   */
  copyFrames?: boolean;
  agentdVersion: string;
  /** Credential values known to be secret (the environment's). */
  secrets: readonly string[];
  now?: () => Date;
  /** Told each refused run once. */
  onRefused?: (runId: string, models: ModelTerms[]) => void;
}

export interface ExportResult {
  manifest: DatasetManifest;
  refused: { runId: string; models: string[] }[];
}

/** The runs a selection names, newest first, a page at a time. */
async function* selectedRuns(store: Store, s: RunSelection): AsyncIterable<RunSummary> {
  const query: RunQuery = { limit: 500 };
  if (s.agent) query.agent = s.agent;
  if (s.statuses.length === 1) query.status = s.statuses[0]!;
  if (s.since) query.since = s.since;
  if (s.until) query.until = s.until;
  if (s.query) query.search = s.query;
  if (s.tags?.length) query.tags = s.tags;
  let given = 0;
  let cursor: string | undefined;
  do {
    const page = await store.queryRuns(cursor ? { ...query, cursor } : query);
    for (const run of page.runs) {
      if (!s.statuses.includes(run.status)) continue;
      if (s.runs && !s.runs.some((p) => run.id.startsWith(p))) continue;
      if (s.exclude?.some((p) => run.id.startsWith(p))) continue;
      yield run;
      if (s.limit !== undefined && ++given >= s.limit) return;
    }
    cursor = page.nextCursor;
  } while (cursor);
}

/** Mean kept eval score of every run that has one. */
async function scoresByRun(store: Store): Promise<Map<string, number>> {
  const sums = new Map<string, { total: number; n: number }>();
  for (const s of await store.listEvalScores()) {
    const sum = sums.get(s.runId) ?? { total: 0, n: 0 };
    sum.total += s.score;
    sum.n++;
    sums.set(s.runId, sum);
  }
  return new Map([...sums].map(([id, { total, n }]) => [id, total / n]));
}

function providerOf(model: string): string {
  return model.slice(0, model.indexOf('/'));
}

/** A run as an eval case: the task, the answer, the calls that succeeded. */
function caseOf(t: Trajectory): EvalCase {
  const c: EvalCase = {
    id: t.runId,
    input: t.task,
    expectedTrajectory: t.turns.flatMap((turn) =>
      turn.toolCalls
        .filter((call) => turn.results.some((r) => r.callId === call.id && !r.isError))
        .map((call) => {
          const expected: ExpectedCall = { tool: call.name };
          if (call.input && typeof call.input === 'object' && !Array.isArray(call.input)) {
            expected.input = call.input;
          }
          return expected;
        }),
    ),
    assertions: [],
    tags: ['from-run'],
    agent: t.agent,
    sourceRun: t.runId,
    origin: t.runId,
  };
  if (t.answer !== undefined) c.expectedResponse = t.answer;
  return c;
}

type ExportCounts = {
  runsRead: number;
  rows: number;
  refusedRuns: number;
  unknownTermsLeftOut: number;
  emptyRuns?: number;
  episodes?: number;
  runsWithoutEpisode?: number;
};

type CheckedModel = RowModel & { terms: ModelTerms; turns: number };

/** Per task, only the best and the worst run so far are held (not every trajectory). */
type Scored = { t: Trajectory; score: number };

/**
 * Stored runs as a dataset folder with lineage and a manifest. For training (SFT and preference
 * pairs) every assistant turn's model is checked against its terms: a run with a turn from a
 * model whose terms forbid training is refused (named through `onRefused`) unless
 * `allowTerms` names that model, which the manifest records; `unknown` terms are flagged.
 */
export async function exportRuns(options: ExportOptions): Promise<ExportResult> {
  const { store, kind, selection } = options;
  const fromProvider = loadProviderTerms(options.config.home);
  const needScores =
    kind === 'preference' || selection.minScore !== undefined || selection.maxScore !== undefined;
  const scores = needScores ? await scoresByRun(store) : new Map<string, number>();
  const out = new RunExport(options, fromProvider, scores);
  const episodes = kind === 'trajectories';
  // Episodes count towards the limit, not runs (a run may have taken no step).
  const { limit, ...unlimited } = selection;
  try {
    for await (const run of selectedRuns(store, episodes ? unlimited : selection)) {
      if (episodes && limit !== undefined && (out.counts.episodes ?? 0) >= limit) break;
      await out.addRun(run);
    }
    out.addPairs();
  } catch (error) {
    out.writer.abort();
    throw error;
  }
  return { manifest: out.finish(), refused: out.refused };
}

/** One export under way: the terms seen, the rows written, what was refused and counted. */
class RunExport {
  readonly writer: DatasetWriter;
  readonly refused: { runId: string; models: string[] }[] = [];
  readonly counts: ExportCounts;
  private readonly training: boolean;
  private readonly allowed: Set<string>;
  private readonly termsCache = new Map<string, ModelTerms>();
  private readonly usedOverrides = new Set<string>();
  private readonly copyFrames: boolean;
  private readonly frameStore: FrameStore;
  private readonly groups = new Map<string, { best: Scored; worst: Scored; runs: number }>();

  private readonly options: ExportOptions;
  private readonly fromProvider: Map<string, ModelTerms>;
  private readonly scores: Map<string, number>;

  constructor(
    options: ExportOptions,
    fromProvider: Map<string, ModelTerms>,
    scores: Map<string, number>,
  ) {
    this.options = options;
    this.fromProvider = fromProvider;
    this.scores = scores;
    const { kind } = options;
    this.training = kind !== 'eval';
    this.allowed = new Set(options.allowTerms);
    this.writer = new DatasetWriter(options.outDir, 'data.jsonl', { secrets: options.secrets });
    this.copyFrames = kind === 'trajectories' && options.copyFrames !== false;
    this.frameStore = new FrameStore(join(options.config.home, 'frames'));
    this.counts = {
      runsRead: 0,
      rows: 0,
      refusedRuns: 0,
      unknownTermsLeftOut: 0,
      ...(kind === 'trajectories' ? { episodes: 0, runsWithoutEpisode: 0 } : { emptyRuns: 0 }),
    };
  }

  private terms(model: string): ModelTerms {
    const known = this.termsCache.get(model);
    if (known) return known;
    const found = termsFor(model, { config: this.options.config, fromProvider: this.fromProvider });
    this.termsCache.set(model, found);
    return found;
  }

  /** One selected run: a row, an episode, a candidate for a pair, or counted as left out. */
  async addRun(run: RunSummary): Promise<void> {
    const { kind, selection, format } = this.options;
    const counts = this.counts;
    const score = this.scores.get(run.id);
    if (selection.minScore !== undefined && (score === undefined || score < selection.minScore))
      return;
    if (selection.maxScore !== undefined && (score === undefined || score > selection.maxScore))
      return;
    counts.runsRead++;
    const events = await this.options.store.readEvents(run.id);
    const t = trajectoryOf(events);
    if (kind === 'trajectories') {
      if (this.addEpisode(events, t)) counts.episodes = (counts.episodes ?? 0) + 1;
      else counts.runsWithoutEpisode = (counts.runsWithoutEpisode ?? 0) + 1;
      return;
    }
    if (t.turns.length === 0) {
      counts.emptyRuns = (counts.emptyRuns ?? 0) + 1;
      return;
    }
    if (kind === 'preference') {
      this.group(t, score);
      return;
    }
    const models = this.check([t]);
    if (!models) return;
    const origin = `run ${t.runId} (events ${t.firstSeq}–${t.lastSeq})`;
    const row = kind === 'eval' ? JSON.parse(caseLine(caseOf(t))) : sftRow(t, format);
    this.writer.add(row, this.lineageOf(t), models, origin);
  }

  private group(t: Trajectory, score: number | undefined): void {
    const key = `${t.agent}\u0000${t.task.trim().replace(/\s+/g, ' ')}`;
    // No eval score: the outcome decides (a completed run over one that was not).
    const scored = { t, score: score ?? (t.status === 'completed' ? 1 : 0) };
    const group = this.groups.get(key);
    if (!group) this.groups.set(key, { best: scored, worst: scored, runs: 1 });
    else {
      group.runs++;
      if (scored.score > group.best.score) group.best = scored;
      if (scored.score < group.worst.score) group.worst = scored;
    }
  }

  /** Preference pairs: the best and the worst run of each task whose runs differ. */
  addPairs(): void {
    let pairs = 0;
    for (const { best, worst, runs } of this.groups.values()) {
      if (runs < 2 || best.score === worst.score) continue;
      const models = this.check([best.t, worst.t]);
      if (!models) continue;
      pairs++;
      this.writer.add(
        preferenceRow(best.t, worst.t, this.options.format),
        {
          chosen: { ...this.lineageOf(best.t), score: best.score },
          rejected: { ...this.lineageOf(worst.t), score: worst.score },
        },
        models,
        `runs ${best.t.runId} and ${worst.t.runId}`,
      );
    }
    if (this.options.kind === 'preference') {
      Object.assign(this.counts, { tasks: this.groups.size, pairs });
    }
  }

  /** The models of trajectories as lineage, or undefined when the rows are refused. */
  private check(ts: readonly Trajectory[]): CheckedModel[] | undefined {
    const { training, options, counts } = this;
    const turnsOf = new Map<string, number>();
    for (const t of ts)
      for (const turn of t.turns) turnsOf.set(turn.model, (turnsOf.get(turn.model) ?? 0) + 1);
    const models = [...turnsOf].map(([model, turns]) => {
      const mt = this.terms(model);
      const row: CheckedModel = {
        model,
        provider: providerOf(model),
        distillable: mt.distillable,
        terms: mt,
        turns,
      };
      if (training && mt.distillable === 'no' && this.allowed.has(model)) row.overridden = true;
      return row;
    });
    if (!training) return models;
    const forbidden = models.filter((m) => m.distillable === 'no' && !m.overridden);
    if (forbidden.length) {
      for (const t of ts) {
        this.refused.push({ runId: t.runId, models: forbidden.map((m) => m.model) });
        options.onRefused?.(
          t.runId,
          forbidden.map((m) => m.terms),
        );
      }
      counts.refusedRuns += ts.length;
      return undefined;
    }
    if (options.refuseUnknown && models.some((m) => m.distillable === 'unknown')) {
      counts.unknownTermsLeftOut += ts.length;
      return undefined;
    }
    for (const m of models) if (m.overridden) this.usedOverrides.add(m.model);
    return models;
  }

  private lineageOf(t: Trajectory) {
    return {
      runId: t.runId,
      agent: t.agent,
      status: t.status,
      ...(t.tags.length ? { tags: t.tags } : {}),
      events: [t.firstSeq, t.lastSeq],
      turns: t.turns.map((turn) => ({ seq: turn.seq, model: turn.model })),
      policies: t.policies.map((p) =>
        p.mode === 'none' ? { mode: 'none' } : { mode: p.mode, version: p.version, dir: p.dir },
      ),
      ...(this.scores.has(t.runId) ? { evalScore: this.scores.get(t.runId) } : {}),
    };
  }

  /** A run's environment episode as a line with its lineage block; false when it has none. */
  private addEpisode(events: readonly RunEvent[], t: Trajectory): boolean {
    const episode = episodeTrajectory(events);
    if (!episode) return false;
    const steps = new Map(episode.actions.map((a) => [a.callId, a.step]));
    // The turns that chose the actions: their models' texts are what the line holds.
    const acting = {
      ...t,
      turns: t.turns.filter((turn) => turn.toolCalls.some((c) => steps.has(c.id))),
    };
    const models = this.check([acting]);
    if (!models) return true;
    const { trajectory } = episode;
    const lineage = {
      ...this.lineageOf(acting),
      turns: acting.turns.map((turn) => ({
        seq: turn.seq,
        model: turn.model,
        steps: turn.toolCalls.flatMap((c) => {
          const step = steps.get(c.id);
          return step === undefined ? [] : [step];
        }),
      })),
      environment: trajectory.environment,
      seed: trajectory.seed,
      redaction: {
        store: JSON.stringify(trajectory).split(REDACTED).length - 1,
        export: 'scanned: no credential-shaped text',
      },
    };
    const row = {
      ...trajectory,
      lineage: {
        models: models.map(({ terms: mt, turns: _turns, ...m }) => ({
          ...m,
          note: mt.note,
          source: mt.source,
          asOf: mt.asOf,
        })),
        ...lineage,
      },
    };
    const origin = `run ${t.runId} (events ${t.firstSeq}–${t.lastSeq})`;
    if (this.copyFrames) this.attachFrames(episode.frames, origin, t.runId);
    this.writer.add(row, lineage, models, origin);
    return true;
  }

  private attachFrames(frames: Iterable<string>, origin: string, runId: string): void {
    const frameStore = this.frameStore;
    for (const digest of frames) {
      const bytes = frameStore.get(digest);
      if (!bytes) {
        throw new AgentdError(
          'dataset_invalid',
          `${origin}: frame ${digest.slice(0, 12)}… is not in ${frameStore.dir} (lost from the frame store); leave the run out (--exclude ${runId}) and export again`,
        );
      }
      this.writer.attach('frames', `${digest}.png`, bytes);
    }
  }

  /** The manifest, once every row is written; refuses an export with no row. */
  finish(): DatasetManifest {
    const { writer, options, counts, refused } = this;
    const { kind, format } = options;
    counts.rows = writer.rows;
    if (writer.rows === 0) {
      writer.abort();
      const why = refused.length
        ? `every matching run was refused for its models' terms (${[...new Set(refused.flatMap((r) => r.models))].join(', ')}); see agentd models, or --allow-terms <model> if your contract allows it`
        : kind === 'preference'
          ? 'no task has two runs with different scores or outcomes'
          : kind === 'trajectories'
            ? 'no stored run with an environment episode matches the selection (see agentd runs list)'
            : 'no stored run matches the selection (see agentd runs list)';
      throw new AgentdError('dataset_empty', `nothing to export: ${why}`);
    }
    const at = (options.now ?? (() => new Date()))().toISOString();
    const by = safeUser();
    return writer.finish({
      origin: 'runs',
      kind,
      format:
        kind === 'eval'
          ? 'agentd-eval-cases'
          : kind === 'trajectories'
            ? 'agentd-trajectories'
            : format === 'openai'
              ? 'openai'
              : 'huggingface',
      intendedUse: this.training ? 'training' : 'evaluation',
      createdAt: at,
      agentdVersion: options.agentdVersion,
      selection: options.selection as unknown as Record<string, unknown>,
      counts,
      overrides: [...this.usedOverrides].map((model) => ({
        model,
        distillable: this.terms(model).distillable,
        by,
        at,
        reason: options.allowReason ?? 'agentd data export --allow-terms',
      })),
      redaction: {
        store:
          "provider keys in use and key-shaped text (sk-…, sk-ant-…, Bearer …) were replaced with [redacted] before the run's events were stored",
        export:
          'every row and lineage line was scanned for credential-shaped text and environment credentials before it was written; none was found',
      },
    });
  }
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
