import { errorMessage } from '../core/errors.ts';
import type { RunEvent } from '../core/events.ts';
import { newId } from '../core/ids.ts';
import { foldRun, type RunState } from '../core/run-state.ts';
import { modelRef } from '../models/model.ts';
import {
  type LiveUpdate,
  type RunResult,
  RunSuspension,
  resumeRun,
  runAgent,
} from '../runtime/agent-loop.ts';
import type { TeamRecord, TeamTask } from '../store/team-store.ts';
import { type TeamBoard, unblocked } from './board.ts';
import { priorActiveMs } from './budget.ts';
import { TeamBudgetWatch } from './budget-watch.ts';
import { resumableTeam } from './resumable-team.ts';
import { type TeamRuntime, TeamSession } from './session.ts';
import { type SettleContext, settleRun, type TeamStop } from './settle-run.ts';
import { teamMember, teamRoster } from './team-member.ts';
import type {
  ResumeTeamOptions,
  StartTeamOptions,
  TeamMemberSetup,
  TeamResult,
  TeamRunBase,
} from './team-run-options.ts';
import { taskBrief } from './tools.ts';

export type {
  ResumeTeamOptions,
  StartTeamOptions,
  TeamMemberSetup,
  TeamResult,
  TeamSetup,
  TeamWorkspaces,
} from './team-run-options.ts';

/** Runs a team on a job until the lead gives its final result, or the team stops. */
export async function runTeam(options: StartTeamOptions): Promise<TeamResult> {
  const runner = new TeamRunner(
    options,
    options.session?.teamId ?? options.teamId ?? newId('team'),
  );
  return runner.start(options);
}

/**
 * Continues a team after a crash or a stop: its board and mailboxes are in the store; the
 * lead's and every teammate's runs are resumed where their logs end, tasks whose runs had
 * finished are settled, and teammates that had claimed a task without starting start it.
 */
export async function resumeTeam(options: ResumeTeamOptions): Promise<TeamResult> {
  const runner = new TeamRunner(options, options.teamId);
  return runner.resume(options);
}

interface ActiveRun {
  member: string;
  controller: AbortController;
}

class TeamRunner {
  readonly #o: TeamRunBase;
  readonly #teamId: string;
  readonly #session: TeamSession;
  readonly #board: TeamBoard;
  readonly #members = new Map<string, TeamMemberSetup>();
  readonly #teammates: TeamMemberSetup[];
  readonly #lead: TeamMemberSetup;
  readonly #now: () => number;
  readonly #watch: TeamBudgetWatch;
  readonly #active = new Map<string, ActiveRun>();
  readonly #stopController = new AbortController();
  #leadRunId = '';
  #leadController = new AbortController();
  #leadDone = false;
  #stop: TeamStop | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #schedulePending = false;
  #done!: () => void;
  readonly #finished = new Promise<void>((resolve) => {
    this.#done = resolve;
  });
  #failure: unknown;
  readonly #settling: SettleContext;

  constructor(options: TeamRunBase, teamId: string) {
    this.#o = options;
    this.#teamId = teamId;
    this.#now = options.now ?? Date.now;
    this.#watch = new TeamBudgetWatch(teamId, this.#now);
    const { team } = options;
    this.#session =
      options.session ??
      new TeamSession({
        store: options.store,
        teamId,
        name: team.name,
        members: teamRoster(team),
        ...(options.now ? { now: options.now } : {}),
      });
    if (this.#session.teamId !== teamId) {
      throw new Error(`the session is of team ${this.#session.teamId}, not ${teamId}`);
    }
    this.#board = this.#session.board;
    this.#settling = {
      teamId,
      board: this.#board,
      workspaces: team.workspaces,
      stopped: () => this.#stop,
      halt: (stop) => this.#halt(stop),
    };
    const runtime: TeamRuntime = {
      settled: () => this.#settled(),
      stopSignal: this.#stopController.signal,
    };
    this.#session.runtime = runtime;
    const ready = (m: TeamMemberSetup) => teamMember(this.#session, team, m);
    this.#lead = ready({ ...team.lead, lead: true });
    this.#teammates = team.teammates.filter((m) => !m.lead).map(ready);
    for (const m of [this.#lead, ...this.#teammates]) this.#members.set(m.name, m);
    this.#board.onChange((events) => {
      for (const event of events) this.#o.onTeamEvent?.(event);
      this.#schedule();
    });
  }

  #at(): string {
    return new Date(this.#now()).toISOString();
  }

  /** Runs bookkeeping one step at a time, in order (the scheduler and runs ending). */
  #enqueue(step: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(step).catch((error: unknown) => this.#crash(error));
    this.#queue = next;
    return next;
  }

  async #settled(): Promise<boolean> {
    // Let every step queued so far run, including what they queue in turn.
    for (;;) {
      const tail = this.#queue;
      await tail;
      if (tail === this.#queue) break;
    }
    return this.#active.size === 0;
  }

  async start(options: StartTeamOptions): Promise<TeamResult> {
    const at = this.#at();
    this.#leadRunId = newId('run');
    this.#watch.budget = this.#o.team.budget;
    const record: TeamRecord = {
      id: this.#teamId,
      name: this.#o.team.name,
      task: options.task,
      specPath: options.specPath ?? '',
      cwd: options.cwd ?? process.cwd(),
      leadRunId: this.#leadRunId,
      status: 'running',
      budget: this.#watch.budget,
      createdAt: at,
      updatedAt: at,
    };
    const started = {
      type: 'team.started' as const,
      data: {
        name: record.name,
        task: options.task,
        leadRunId: this.#leadRunId,
        members: [this.#lead, ...this.#teammates].map((m) => ({
          name: m.name,
          role: m.role,
          model: modelRef(m.agent.model),
          ...(m.scripted ? { scripted: true } : {}),
        })),
        maxRunning: this.#o.team.maxRunning,
        budget: this.#watch.budget,
        ...(options.specPath ? { specPath: options.specPath } : {}),
      },
    };
    await this.#o.store.teams.createTeam(record, started);
    this.#o.onTeamEvent?.({
      teamId: this.#teamId,
      seq: 1,
      at,
      type: started.type,
      data: started.data,
    });
    this.#watch.startSession();
    this.#startLead('fresh', options.task);
    return this.#drive();
  }

  async resume(options: ResumeTeamOptions): Promise<TeamResult> {
    const { store } = this.#o;
    const { team, runs } = await resumableTeam(store, this.#teamId, this.#members);
    this.#leadRunId = team.leadRunId;
    this.#watch.budget = { ...team.budget, ...options.budget };
    const log = await store.teams.readTeamEvents(team.id);
    const priorMs = priorActiveMs(log);
    const session = log.filter((e) => e.type === 'team.resumed').length + 1;
    await store.teams.setTeamStatus(
      team.id,
      { status: 'running', budget: this.#watch.budget },
      undefined,
      this.#at(),
    );
    await this.#board.append([
      {
        type: 'team.resumed',
        data: {
          session,
          ...(options.budget && Object.keys(options.budget).length
            ? { budget: this.#watch.budget }
            : {}),
          ...(options.inDoubt ? { inDoubt: options.inDoubt } : {}),
        },
      },
    ]);
    this.#watch.startSession(priorMs);
    // What every run used so far counts against the team budget.
    for (const id of [team.leadRunId, ...runs.map((r) => r.runId)]) {
      for (const event of await store.readEvents(id)) this.#watch.add(event);
    }
    const lead = await store.getRun(team.leadRunId);
    if (lead?.status === 'completed') {
      // The lead had given its result: the team is done; nothing else runs.
      const state = foldRun(team.leadRunId, await store.readEvents(team.leadRunId));
      this.#leadDone = true;
      this.#stop = { status: 'completed', ...(state.output ? { result: state.output } : {}) };
    } else {
      this.#startLead(lead ? 'resume' : 'fresh', team.task, options.inDoubt);
    }
    const tasks = await this.#board.tasks();
    for (const run of runs) {
      const member = this.#members.get(run.member)!;
      const held = tasks.filter(
        (t) => t.runId === run.runId && (t.status === 'claimed' || t.status === 'in_progress'),
      );
      const summary = await store.getRun(run.runId);
      if (this.#stop) {
        // The team is over: settle what its runs left.
        if (held.length) {
          const state = summary ? foldRun(run.runId, await store.readEvents(run.runId)) : undefined;
          await this.#enqueue(() => settleRun(this.#settling, member, run.runId, state));
        }
        continue;
      }
      if (!summary) {
        // Claimed, but the run never started: start it now (it keeps the id the claim recorded).
        if (held[0]) this.#startMember(member, held[0], run.runId, 'fresh');
        continue;
      }
      if (!endedStatuses.has(summary.status)) {
        this.#startMember(member, held[0], run.runId, 'resume', options.inDoubt);
      } else if (held.length) {
        // It finished, but the crash came before its task was settled.
        const state = foldRun(run.runId, await store.readEvents(run.runId));
        await this.#enqueue(() => settleRun(this.#settling, member, run.runId, state));
      }
    }
    return this.#drive();
  }

  /** Waits for the lead and every run to end, watching the budgets; then closes the team. */
  async #drive(): Promise<TeamResult> {
    const signal = this.#o.signal;
    const onAbort = () => this.#halt({ status: 'cancelled', detail: 'cancelled by the user' });
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const stopWatching = this.#watch.watchTime(
      () => this.#checkBudget(),
      () => this.#stop !== undefined,
    );
    this.#schedule();
    this.#checkDone();
    try {
      await this.#finished;
      if (this.#failure !== undefined) throw this.#failure;
      return await this.#close();
    } finally {
      stopWatching();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async #close(): Promise<TeamResult> {
    const stop = this.#stop ?? { status: 'failed', detail: 'the team ended without a result' };
    const usage = this.#watch.usage();
    await this.#o.store.teams.setTeamStatus(
      this.#teamId,
      {
        status: stop.status,
        ...(stop.result !== undefined ? { result: stop.result } : {}),
        ...(stop.detail !== undefined ? { detail: stop.detail } : {}),
      },
      undefined,
      this.#at(),
    );
    await this.#board.append([
      {
        type: 'team.finished',
        data: {
          status: stop.status,
          ...(stop.result !== undefined ? { result: stop.result } : {}),
          ...(stop.detail !== undefined ? { detail: stop.detail } : {}),
          usage,
        },
      },
    ]);
    return {
      teamId: this.#teamId,
      status: stop.status,
      ...(stop.result !== undefined ? { result: stop.result } : {}),
      ...(stop.detail !== undefined ? { detail: stop.detail } : {}),
      tasks: await this.#board.tasks(),
      usage,
    };
  }

  #crash(error: unknown): void {
    // A store failure or a bug: stop everything, then surface it.
    if (this.#failure === undefined) this.#failure = error;
    this.#halt({ status: 'failed', detail: `internal error: ${errorMessage(error)}` });
    this.#checkDone();
  }

  #checkDone(): void {
    if (this.#leadDone && this.#active.size === 0) this.#done();
  }

  /** Stops the team: every run is suspended between steps (resumable), waits are woken. */
  #halt(stop: TeamStop): void {
    if (!this.#stop) this.#stop = stop;
    const reason = new RunSuspension(this.#stop.detail ?? `the team ${this.#stop.status}`);
    if (!this.#leadDone && !this.#leadController.signal.aborted) this.#leadController.abort(reason);
    for (const run of this.#active.values()) {
      if (!run.controller.signal.aborted) run.controller.abort(reason);
    }
    if (!this.#stopController.signal.aborted) this.#stopController.abort(reason);
  }

  #onRunEvent(member: string, event: RunEvent): void {
    this.#watch.add(event);
    this.#o.onRunEvent?.(member, event);
    if (event.type === 'model.request' || event.type === 'model.response') this.#checkBudget();
  }

  #checkBudget(): void {
    if (this.#stop) return;
    const over = this.#watch.exceeded();
    if (over) this.#halt({ status: 'budget_exceeded', detail: over });
  }

  #runOptions(member: TeamMemberSetup, controller: AbortController) {
    return {
      store: this.#o.store,
      agent: member.agent,
      signal: controller.signal,
      onEvent: (event: RunEvent) => this.#onRunEvent(member.name, event),
      ...(this.#o.onLive
        ? { onLive: (update: LiveUpdate) => this.#o.onLive?.(member.name, update) }
        : {}),
      ...(this.#o.now ? { now: this.#o.now } : {}),
      ...(this.#o.retryPolicy ? { retryPolicy: this.#o.retryPolicy } : {}),
    };
  }

  #startLead(mode: 'fresh' | 'resume', task: string, inDoubt?: 'rerun' | 'skip'): void {
    const lead = this.#lead;
    const controller = this.#leadController;
    const run =
      mode === 'fresh'
        ? runAgent({
            ...this.#runOptions(lead, controller),
            task,
            runId: this.#leadRunId,
            ...(lead.scripted ? { scripted: lead.scripted } : {}),
          })
        : resumeRun({
            ...this.#runOptions(lead, controller),
            runId: this.#leadRunId,
            ...(inDoubt ? { inDoubt } : {}),
          });
    run.then(
      (result) => this.#enqueue(() => this.#leadEnded(result.state)),
      (error: unknown) => this.#enqueue(() => this.#leadEnded(undefined, error)),
    );
  }

  async #leadEnded(state: RunState | undefined, error?: unknown): Promise<void> {
    this.#leadDone = true;
    if (!this.#stop) {
      if (state?.status === 'completed') {
        this.#stop = { status: 'completed', ...(state.output ? { result: state.output } : {}) };
      } else if (state?.status === 'needs_attention') {
        this.#stop = {
          status: 'needs_attention',
          detail: `the lead's run ${this.#leadRunId} needs a person: ${state.detail ?? ''}; then agentd team resume ${this.#teamId} --rerun-in-doubt or --skip-in-doubt`,
        };
      } else {
        const why = state
          ? `${state.status}${state.detail ? `: ${state.detail}` : ''}`
          : errorMessage(error);
        this.#stop = { status: 'failed', detail: `the lead's run ${this.#leadRunId} ended ${why}` };
      }
    }
    // Whatever teammates are still doing, the team is over: they stop between steps.
    this.#halt(this.#stop);
    this.#checkDone();
  }

  /** Starts teammates on what they can take, up to the limit. */
  #schedule(): void {
    // One pass waiting is enough: it sees the board as it is when it runs.
    if (this.#schedulePending) return;
    this.#schedulePending = true;
    void this.#enqueue(async () => {
      this.#schedulePending = false;
      if (this.#stop || this.#leadDone) return;
      if (this.#active.size >= this.#o.team.maxRunning) return;
      // A read first: claims (writes) only for members that have something to take.
      const tasks = await this.#board.tasks();
      const byId = new Map(tasks.map((t) => [t.id, t]));
      const open = tasks.filter((t) => t.status === 'pending' && unblocked(t, byId));
      if (open.length === 0) return;
      const busy = new Set([...this.#active.values()].map((r) => r.member));
      for (const member of this.#teammates) {
        if (this.#active.size >= this.#o.team.maxRunning) return;
        if (busy.has(member.name)) continue;
        const fits = (t: TeamTask) =>
          !t.assignee || t.assignee === member.name || t.assignee === member.role;
        if (!open.some(fits)) continue;
        const runId = newId('run');
        const task = await this.#board.claim({
          member: member.name,
          names: [member.name, member.role],
          status: 'claimed',
          runId,
          newRun: true,
        });
        if (!task) continue;
        open.splice(
          open.findIndex((t) => t.id === task.id),
          1,
        );
        if (this.#stop) {
          // Stopped while claiming: the claim stays, and resume starts it.
          return;
        }
        busy.add(member.name);
        this.#startMember(member, task, runId, 'fresh');
      }
    });
  }

  /** What a teammate's run is given: its task, what it depends on, its unread messages. */
  async #brief(member: TeamMemberSetup, task: TeamTask): Promise<string> {
    const board = await this.#board.tasks();
    const messages = await this.#board.inbox(member.name);
    const parts = [taskBrief(task, board)];
    if (messages.length) {
      parts.push(
        `Messages for you:\n${messages.map((m) => `- from ${m.from}: ${m.text}`).join('\n')}`,
      );
    }
    parts.push(`(Team "${this.#o.team.name}", job: ${await this.#job()})`);
    return parts.join('\n\n');
  }

  #jobText: string | undefined;
  async #job(): Promise<string> {
    this.#jobText ??= (await this.#o.store.teams.getTeam(this.#teamId))?.task ?? '';
    const flat = this.#jobText.replace(/\s+/g, ' ').trim();
    return flat.length > 400 ? `${flat.slice(0, 399)}…` : flat;
  }

  #startMember(
    member: TeamMemberSetup,
    task: TeamTask | undefined,
    runId: string,
    mode: 'fresh' | 'resume',
    inDoubt?: 'rerun' | 'skip',
  ): void {
    const controller = new AbortController();
    this.#active.set(runId, { member: member.name, controller });
    if (this.#stop) controller.abort(new RunSuspension(this.#stop.detail ?? 'the team stopped'));
    if (mode === 'resume' && task?.status === 'claimed') {
      // The run had started when the process stopped, before its task was marked so.
      void this.#enqueue(async () => {
        await this.#board.change(task.id, {
          from: ['claimed'],
          runId,
          set: { status: 'in_progress' },
          by: member.name,
        });
      });
    }
    const options = this.#runOptions(member, controller);
    const onEvent = options.onEvent;
    options.onEvent = (event) => {
      onEvent(event);
      if (event.type === 'run.started' && task) {
        void this.#enqueue(async () => {
          await this.#board.change(task.id, {
            from: ['claimed'],
            runId,
            set: { status: 'in_progress' },
            by: member.name,
          });
        });
      }
    };
    const run = (async (): Promise<RunResult> => {
      await this.#board.append([
        {
          type: 'member.started',
          data: {
            member: member.name,
            runId,
            ...(task ? { taskId: task.id } : {}),
            ...(mode === 'resume' ? { resumed: true } : {}),
          },
        },
      ]);
      if (mode === 'resume') {
        return resumeRun({ ...options, runId, ...(inDoubt ? { inDoubt } : {}) });
      }
      if (!task) throw new Error(`run ${runId} has no task to start on`);
      await this.#o.team.workspaces?.beforeTask(member.name, task);
      return runAgent({
        ...options,
        task: await this.#brief(member, task),
        runId,
        parentRunId: this.#leadRunId,
        ...(member.scripted ? { scripted: member.scripted } : {}),
      });
    })();
    run.then(
      (result) => this.#enqueue(() => this.#memberEnded(member, runId, result.state)),
      (error: unknown) => this.#enqueue(() => this.#memberEnded(member, runId, undefined, error)),
    );
  }

  async #memberEnded(
    member: TeamMemberSetup,
    runId: string,
    state: RunState | undefined,
    error?: unknown,
  ): Promise<void> {
    this.#active.delete(runId);
    try {
      await settleRun(this.#settling, member, runId, state, error);
    } finally {
      this.#checkDone();
      this.#schedule();
    }
  }
}

/** Run statuses after which a run does not go on by itself. */
const endedStatuses = new Set<string>(['completed', 'failed', 'budget_exceeded']);
