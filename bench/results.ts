import type { FrameworkName } from './frameworks/catalog.ts';
import type { Plan } from './plan.ts';
import type { ConsoleResults } from './protocols/console.ts';
import type { DataBenchResults } from './protocols/data.ts';
import type { EnvironmentsResults } from './protocols/environments.ts';
import type { GatewayResults } from './protocols/gateway.ts';
import type { LocalResults } from './protocols/local.ts';
import type { LongRunResults } from './protocols/long-run.ts';
import type { MemoryBenchResults } from './protocols/memory.ts';
import type { PolicyResults } from './protocols/policy.ts';
import type {
  ColdSample,
  ConcurrencySample,
  ThroughputSample,
  WarmSample,
} from './protocols/samples.ts';
import type { ScaleResults } from './protocols/scale.ts';
import type { StartupResults } from './protocols/startup.ts';
import type { StepsResults } from './protocols/steps.ts';
import type { TeamsResults } from './protocols/teams.ts';
import type { TelemetryResults } from './protocols/telemetry.ts';
import type { VoiceResults } from './protocols/voice.ts';
import type { ProfileSummary } from './report/profile-summary.ts';
import type { PeerSummary } from './summarize.ts';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
}

/** Everything one `npm run bench` measured: written as `bench/results/<date>.json`. */
export interface Results {
  date: string;
  plan: Plan;
  suites: string[];
  machine: Machine;
  /** Package versions measured, agentd's with its commit. */
  versions: Record<string, string>;
  frameworks: FrameworkName[];
  configurations: Partial<Record<FrameworkName, string>>;
  wallSeconds: number;
  failures: string[];
  peers?: {
    summary: PeerSummary;
    warmupRuns?: number;
    samples: {
      cold: ColdSample[];
      warm: WarmSample[];
      throughput: ThroughputSample[];
      concurrency: ConcurrencySample[];
    };
  };
  profile?: ProfileSummary & { workload: 'b'; runs: number };
  startup?: StartupResults;
  steps?: StepsResults;
  /** The long-horizon issue's benchmark: one compacting run of 10,000 steps. */
  longRun?: LongRunResults;
  /** The policy issue's benchmark: decision latency and its share of a tool call. */
  policy?: PolicyResults;
  /** The agent teams issue's benchmark: speed-up of a team with its number of teammates. */
  teams?: TeamsResults;
  /** The memory issue's benchmark: ingestion, recall latency and index memory by size. */
  memory?: MemoryBenchResults;
  /** The serve issue's benchmark: a tool call through the MCP gateway against the same call direct. */
  gateway?: GatewayResults;
  /** The web console issue's benchmark: the runs list at 100,000 runs and a 10,000-event timeline, in Chromium. */
  console?: ConsoleResults;
  /** The observability issue's benchmark: telemetry's overhead per one-tool run. */
  telemetry?: TelemetryResults;
  /** The data issue's benchmark: design rows/s, export rows/s, generation memory. */
  data?: DataBenchResults;
  /** The voice issue's benchmark: latency from a final transcript to the model, offline engine speed. */
  voice?: VoiceResults;
  /** The environments issue's benchmark: env_step's overhead over the environment, eval episodes/s. */
  environments?: EnvironmentsResults;
  /** The local-models issue's benchmark: the tiny GGUF through agentd against node-llama-cpp direct. */
  local?: LocalResults;
  /** The scale-out issue's benchmark: runs/s by workers, appends/s by store, takeover after SIGKILL. */
  scale?: ScaleResults;
}
