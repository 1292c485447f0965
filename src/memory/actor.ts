import { userInfo } from 'node:os';
import type { Config } from '../config/config.ts';
import { AgentdError } from '../core/errors.ts';

/**
 * Who runs are for: `--actor`, else AGENTD_ACTOR, else config.yaml's memory.actor, else the
 * name of the user running agentd.
 */
export function actorOf(config: Config, given?: string): string {
  const actor = given ?? config.env.AGENTD_ACTOR ?? config.memory?.actor ?? osUser();
  if (!/^[^/\s]+$/.test(actor)) {
    throw new AgentdError(
      'usage',
      `actor "${actor}" is not an actor id (no "/" or spaces; e.g. --actor alice)`,
    );
  }
  return actor;
}

function osUser(): string {
  try {
    return userInfo().username || 'default';
  } catch {
    return 'default';
  }
}
