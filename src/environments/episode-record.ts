import type { RunEvent } from '../core/events.ts';
import type { JsonValue } from '../core/messages.ts';
import { environmentToolNames } from './environment-tools.ts';
import type { StepRecord } from './episode.ts';
import { bestSteps } from './optimum.ts';

/** An episode as a run's log tells it: a fold over its step tools' calls and results. */
export interface EpisodeRecord {
  environment?: string;
  seed?: number;
  settings?: { [key: string]: JsonValue };
  /** What the reset showed, as its first step logged it. */
  firstObservation?: { [key: string]: JsonValue };
  steps: StepRecord[];
  /** The tool call of each step, in order (the model's turn that chose its action has it). */
  stepCalls: string[];
  /** Step calls that were refused or failed: a bad action, a step after the end, a server's no. */
  invalid: { action: JsonValue; error: string; callId: string }[];
  return: number;
  terminated: boolean;
  truncated: boolean;
  optimalSteps?: number;
  /** Digests of the frames the episode showed, in order (world models). */
  frames: string[];
}

/** The episode of a run, or undefined when the run took no step of an environment. */
export function episodeRecord(events: readonly RunEvent[]): EpisodeRecord | undefined {
  const calls = new Map<string, JsonValue>();
  const record: EpisodeRecord = {
    steps: [],
    stepCalls: [],
    invalid: [],
    return: 0,
    terminated: false,
    truncated: false,
    frames: [],
  };
  for (const event of events) {
    if (event.type === 'tool.call' && event.data.name === environmentToolNames.step) {
      calls.set(event.data.callId, event.data.input);
    } else if (event.type === 'tool.result' && event.data.name === environmentToolNames.step) {
      if (event.data.isError) {
        if (event.data.errorKind === 'denied' || event.data.errorKind === 'cancelled') continue;
        record.invalid.push({
          action: calls.get(event.data.callId) ?? null,
          error:
            typeof event.data.output === 'string'
              ? event.data.output
              : JSON.stringify(event.data.output),
          callId: event.data.callId,
        });
        continue;
      }
      const step = event.data.output as unknown as StepRecord;
      record.steps.push(step);
      record.stepCalls.push(event.data.callId);
      if (step.episode) {
        record.environment = step.episode.environment;
        record.seed = step.episode.seed;
        record.settings = step.episode.settings;
        record.firstObservation = step.episode.first_observation;
        for (const image of imagesOf(step.episode.first_observation)) record.frames.push(image);
        const best = bestSteps(step.episode.environment, step.episode.seed, step.episode.settings);
        if (best !== undefined) record.optimalSteps = best;
      }
      record.return = step.return;
      record.terminated = step.terminated;
      record.truncated = step.truncated;
      for (const image of imagesOf(step.observation)) record.frames.push(image);
    }
  }
  if (!calls.size) return undefined;
  return record;
}

/** Frame digests of a logged observation (absent from logs of older agentd versions). */
function imagesOf(observation: { [key: string]: JsonValue } | undefined): string[] {
  const images = observation?.images;
  if (!Array.isArray(images)) return [];
  return images.flatMap((image) => {
    const digest = (image as { digest?: unknown } | null)?.digest;
    return typeof digest === 'string' ? [digest] : [];
  });
}
