import type { JsonValue } from '../core/messages.ts';
import type { JsonSchema } from '../models/model.ts';
import type { FrameStore } from './frame-store.ts';

/**
 * An image in an observation (a world model's frame): the bytes' SHA-256 names it, so it is
 * stored once however often it is seen, and the log holds only the digest.
 */
export interface ObservationImage {
  mediaType: 'image/png';
  /** SHA-256 of the bytes, lowercase hex. */
  digest: string;
  width: number;
  height: number;
  /** The bytes, base64: present on the live observation, dropped from what is logged. */
  data?: string;
}

/** What an agent sees after a reset or a step: text, structured state and images, any of them. */
export interface Observation {
  text?: string;
  state?: { [key: string]: JsonValue };
  images?: ObservationImage[];
}

/** Gymnasium's step: the observation, the reward, and whether the episode ended or was cut off. */
export interface StepResult {
  observation: Observation;
  reward: number;
  /** The episode reached a terminal state (the goal, a loss): further steps are invalid. */
  terminated: boolean;
  /** The episode was cut off from outside (a step limit): further steps are invalid. */
  truncated: boolean;
  info: { [key: string]: JsonValue };
}

/**
 * An interactive world, with Gymnasium's semantics: `reset(seed)` starts an episode and gives
 * the first observation; `step(action)` applies one action. The same seed and the same actions
 * give the same observations (for built-in environments), which is what lets a run be resumed
 * by replaying its logged actions.
 */
export interface Environment {
  /** The kind, as specs name it (`gridworld`, `world-model`). */
  readonly kind: string;
  /** JSON Schema of one action: the input of the agent's step tool. */
  readonly actionSpace: JsonSchema;
  /** JSON Schema of an observation's `state`. */
  readonly observationSpace: JsonSchema;
  /** What, with the kind and the seed, makes the same world again (logged with the first step). */
  readonly settings: { [key: string]: JsonValue };
  /** Where the images of its observations are stored, for environments that show images. */
  readonly frames?: FrameStore;
  /** Whether replaying the same actions from the same seed gives the same observations. */
  readonly deterministic: boolean;
  /** Checks an action against the action space: the parsed action, or what is wrong with it. */
  parseAction(input: unknown): { ok: true; action: JsonValue } | { ok: false; error: string };
  reset(seed: number, signal?: AbortSignal): Promise<Observation>;
  step(action: JsonValue, signal?: AbortSignal): Promise<StepResult>;
  close?(): Promise<void>;
}

/** An episode's goal as the agent is told it, and the step limit. */
export interface EpisodeSettings {
  seed: number;
  goal?: string;
  maxSteps: number;
}
