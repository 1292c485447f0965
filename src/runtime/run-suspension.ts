/**
 * Abort a run's signal with this as the reason to stop it between steps without ending it:
 * tool calls in flight finish and are logged, a model call in flight is dropped (resume makes
 * it again), and the run is left `suspended`, to be resumed later.
 */
export class RunSuspension {
  readonly reason: string;
  /**
   * Nothing is logged: the run keeps the status it had (a worker letting go of a run that waits
   * for an approval, which wakes it again, or of one it leaves to another worker).
   */
  readonly quiet: boolean;
  constructor(reason: string, options: { quiet?: boolean } = {}) {
    this.reason = reason;
    this.quiet = options.quiet === true;
  }
}

/** True when the signal stopped the run to suspend it rather than to cancel it. */
export function suspending(signal: AbortSignal): boolean {
  return signal.reason instanceof RunSuspension;
}
