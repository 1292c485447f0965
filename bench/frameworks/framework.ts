/** One agent, built once with a framework and run many times. */
export interface BenchAgent {
  /** Runs the agent on a task to its final answer and returns the answer's text. */
  run(task: string): Promise<string>;
}

export interface AgentOptions {
  /** The fake model's base URL (`.../v1`), naming the workload. */
  baseUrl: string;
  /** A step limit that never binds on a correct run. */
  maxSteps: number;
}

/** How the benchmark drives one framework, in its documented, default way. */
export interface Framework {
  createAgent(options: AgentOptions): Promise<BenchAgent>;
  /** Releases what the framework holds (stores, exporters) before the process exits. */
  shutdown?(): Promise<void>;
}
