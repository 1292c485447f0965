import { digestOf } from '../core/canonical-json.ts';
import type { JsonValue } from '../core/messages.ts';
import type { Observation } from './environment.ts';

/** An observation as the log keeps it: images by digest and size, never their bytes. */
export function loggedObservation(observation: Observation): { [key: string]: JsonValue } {
  const logged: { [key: string]: JsonValue } = {};
  if (observation.text !== undefined) logged.text = observation.text;
  if (observation.state) logged.state = observation.state;
  if (observation.images?.length) {
    logged.images = observation.images.map((image) => ({
      mediaType: image.mediaType,
      digest: image.digest,
      width: image.width,
      height: image.height,
    }));
  }
  return logged;
}

/**
 * The digest of an observation: SHA-256 of the canonical JSON of what the log keeps of it
 * (images by their own digests), so a replayed observation can be checked against the log.
 */
export function observationDigest(observation: Observation): string {
  return digestOf(loggedObservation(observation));
}
