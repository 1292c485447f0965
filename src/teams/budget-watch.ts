import type { RunEvent } from '../core/events.ts';
import type { TeamBudget } from '../store/team-store.ts';
import { TeamMeter, type TeamUsage, teamBudgetExceeded } from './budget.ts';

/**
 * A team's budget as the runner watches it: what its runs use (their events, as they come),
 * its active time over this session and the ones before, and the first limit passed.
 */
export class TeamBudgetWatch {
  /** The limits of this session (a resume may raise them). */
  budget: TeamBudget = {};
  readonly #meter = new TeamMeter();
  readonly #teamId: string;
  readonly #now: () => number;
  #sessionStart = 0;
  #priorMs = 0;

  constructor(teamId: string, now: () => number) {
    this.#teamId = teamId;
    this.#now = now;
  }

  /** This session's active time starts now, after `priorMs` of the sessions before. */
  startSession(priorMs = 0): void {
    this.#priorMs = priorMs;
    this.#sessionStart = this.#now();
  }

  /** Counts one event of a member's run. */
  add(event: RunEvent): void {
    this.#meter.add(event);
  }

  activeMs(): number {
    return this.#priorMs + Math.max(0, this.#now() - this.#sessionStart);
  }

  usage(): TeamUsage {
    return this.#meter.usage(this.activeMs());
  }

  /** The first budget used up, as one line saying what to do; undefined while none is. */
  exceeded(): string | undefined {
    return teamBudgetExceeded(this.budget, this.usage(), this.#teamId);
  }

  /**
   * With a time budget, calls `check` now and again whenever the time left would run out,
   * until `stopped`; returns what cancels the timer.
   */
  watchTime(check: () => void, stopped: () => boolean): () => void {
    let timer: NodeJS.Timeout | undefined;
    const maxTime = this.budget.maxTimeMs;
    const tick = () => {
      check();
      if (stopped() || maxTime === undefined) return;
      timer = setTimeout(tick, Math.max(5, maxTime - this.activeMs() + 5));
    };
    if (maxTime !== undefined) tick();
    return () => clearTimeout(timer);
  }
}
