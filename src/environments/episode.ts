import type { RunEvent } from '../core/events.ts';
import type { JsonValue } from '../core/messages.ts';
import type { Environment, EpisodeSettings, Observation } from './environment.ts';
import { loggedObservation, observationDigest } from './observation-digest.ts';

/** What one step logs, in its tool result: the event of the step in the run's log. */
export interface StepRecord {
  /** On the first step only: the environment, seed and settings, enough to make the world again. */
  episode?: {
    environment: string;
    seed: number;
    settings: { [key: string]: JsonValue };
    /** What the reset showed (as the log keeps it: frames by digest). */
    first_observation: { [key: string]: JsonValue };
  };
  step: number;
  action: JsonValue;
  observation: { [key: string]: JsonValue };
  observation_digest: string;
  reward: number;
  return: number;
  terminated: boolean;
  truncated: boolean;
  info: { [key: string]: JsonValue };
}

/**
 * One episode of an environment inside a run: reset with the run's seed, stepped by the agent's
 * tool calls, each step's record returned as the call's result (so it is an event of the run),
 * and rebuilt after a crash by replaying the logged steps (`restore`).
 */
export class Episode {
  readonly environment: Environment;
  readonly settings: EpisodeSettings;
  readonly stepTool: string;
  #first: Observation | undefined;
  #steps = 0;
  #return = 0;
  #over: 'terminated' | 'truncated' | undefined;
  #last: Observation | undefined;
  /** Idempotency keys of the steps applied to this copy of the environment, with their records. */
  readonly #applied = new Map<string, StepRecord>();
  #restored = false;

  constructor(environment: Environment, settings: EpisodeSettings, stepTool: string) {
    this.environment = environment;
    this.settings = settings;
    this.stepTool = stepTool;
  }

  /** Resets the environment with the episode's seed (or a new one); the first observation. */
  async start(signal?: AbortSignal, seed = this.settings.seed): Promise<Observation> {
    this.settings.seed = seed;
    this.#first = await this.environment.reset(seed, signal);
    this.#last = this.#first;
    this.#steps = 0;
    this.#return = 0;
    this.#over = undefined;
    this.#applied.clear();
    return this.#first;
  }

  get started(): boolean {
    return this.#first !== undefined;
  }

  get observation(): Observation | undefined {
    return this.#last;
  }

  get over(): 'terminated' | 'truncated' | undefined {
    return this.#over;
  }

  /** Applies one action (checked); a repeat of an applied key gives the same record back. */
  async step(action: JsonValue, key: string, signal?: AbortSignal): Promise<StepRecord> {
    const done = this.#applied.get(key);
    if (done) return done;
    if (!this.#first) await this.start(signal);
    if (this.#over) {
      throw new Error(
        `the episode is over (${this.#over} after ${this.#steps} steps, return ${round(this.#return)}); no more actions are taken: give your final answer`,
      );
    }
    const result = await this.environment.step(action, signal);
    this.#steps++;
    this.#return += result.reward;
    const truncated =
      result.truncated || (!result.terminated && this.#steps >= this.settings.maxSteps);
    if (result.terminated) this.#over = 'terminated';
    else if (truncated) this.#over = 'truncated';
    this.#last = result.observation;
    const record: StepRecord = {
      ...(this.#steps === 1
        ? {
            episode: {
              environment: this.environment.kind,
              seed: this.settings.seed,
              settings: this.environment.settings,
              first_observation: loggedObservation(this.#first!),
            },
          }
        : {}),
      step: this.#steps,
      action,
      observation: loggedObservation(result.observation),
      observation_digest: observationDigest(result.observation),
      reward: round(result.reward),
      return: round(this.#return),
      terminated: result.terminated,
      truncated,
      info: result.info,
    };
    this.#applied.set(key, record);
    return record;
  }

  /**
   * Rebuilds the episode from a run's log after a crash, by replay: reset with the seed, then
   * every step the log holds a result of, in order, each observation checked against its logged
   * digest. A step the log has no result for was lost with the process that ran it, so it is
   * not applied here (the resumed run runs it again). Replay and not a saved snapshot: the log
   * already holds every action, a world model's server-side state cannot be saved by agentd at
   * all, and the digests prove the replayed world is the logged one.
   */
  async restore(events: readonly RunEvent[], signal?: AbortSignal): Promise<void> {
    if (this.#restored) return;
    this.#restored = true;
    const keys = new Map<string, string>();
    const steps: { key: string; record: StepRecord }[] = [];
    for (const event of events) {
      if (event.type === 'tool.call' && event.data.name === this.stepTool) {
        keys.set(event.data.callId, event.data.idempotencyKey);
      } else if (
        event.type === 'tool.result' &&
        event.data.name === this.stepTool &&
        !event.data.isError &&
        keys.has(event.data.callId)
      ) {
        steps.push({
          key: keys.get(event.data.callId)!,
          record: event.data.output as unknown as StepRecord,
        });
      }
    }
    await this.start(signal);
    for (const { key, record } of steps) {
      const replayed = await this.step(record.action, key, signal);
      if (replayed.observation_digest !== record.observation_digest) {
        throw new Error(
          `replaying step ${record.step} (${JSON.stringify(record.action)}) gave observation ${replayed.observation_digest.slice(0, 12)}, the log has ${record.observation_digest.slice(0, 12)}: the ${this.environment.kind} environment does not replay to the logged state (changed since the run started?)`,
        );
      }
    }
  }
}

export function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
