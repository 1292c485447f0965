import type { FakeModelServer } from './fake-model/server.ts';
import type { FrameworkName } from './frameworks/catalog.ts';
import type { Plan } from './plan.ts';

/** What every suite gets: the fake model, the plan, the frameworks to run and a log. */
export interface BenchContext {
  server: FakeModelServer;
  plan: Plan;
  /** In the order of the first round; always includes the raw baseline when peers run. */
  frameworks: FrameworkName[];
  /** A scratch directory, removed at the end. */
  tmpDir: string;
  log: (line: string) => void;
  /** Run failures, each with where it happened; any failure marks the results. */
  failures: string[];
}
