/** What a command group's registration gets from `main`. */
export interface CommandContext {
  /** agentd's version (`agentd serve` reports it). */
  version: string;
  /** Records the exit code of the command that ran; `main` resolves to it. */
  exit(code: number): void;
}
