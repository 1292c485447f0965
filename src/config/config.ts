import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { AgentdError } from '../core/errors.ts';
import { lazy } from '../core/lazy.ts';
import { parseYamlFile } from '../definition/yaml-file.ts';
import type { Durability } from '../store/store.ts';

/** A Postgres connection URL, as `pg` and libpq take it. */
const postgresUrl = /^postgres(ql)?:\/\/\S+$/;

const providerConfig = lazy(() =>
  z.strictObject({
    api_key: z.string().min(1).optional(),
    base_url: z.url().optional(),
  }),
);

/** What `config.yaml` may hold; built when a config.yaml is read. */
export const configSchema = lazy(() =>
  z.strictObject({
    durability: z.enum(['process', 'machine']).optional(),
    /**
     * Where runs, events and everything else are kept: a Postgres URL for a store shared by
     * servers and workers on many hosts; unset, the embedded SQLite file under AGENTD_HOME.
     */
    store: z
      .string()
      .regex(postgresUrl, {
        message:
          'write a postgres://user@host:port/database URL (leave store out for the embedded SQLite file)',
      })
      .optional(),
    /**
     * Who drives the runs `agentd serve` starts on a Postgres store: `workers` (queued for
     * `agentd worker` processes, the default), `here` (the server itself), or `both` (queued,
     * and the server is one of the workers).
     */
    runs: z.enum(['here', 'workers', 'both']).optional(),
    providers: z
      .strictObject({
        anthropic: providerConfig().optional(),
        openai: providerConfig().optional(),
        'openai-compatible': providerConfig().optional(),
        ollama: providerConfig().optional(),
        /** Mistral: Voxtral transcription (see docs/voice.md). */
        mistral: providerConfig().optional(),
      })
      .optional(),
    /** Models on this machine: GGUF folders and local servers to look for (see docs/local-models.md). */
    local: z
      .strictObject({
        /** Folders of GGUF files besides `$AGENTD_HOME/models` (relative to AGENTD_HOME; `~/` is home). */
        model_dirs: z.array(z.string().min(1)).optional(),
        /** Ports to look for each kind of local server on, instead of its default port. */
        ports: z
          .strictObject({
            ollama: z.array(z.int().min(1).max(65535)).optional(),
            'llama-cpp': z.array(z.int().min(1).max(65535)).optional(),
            vllm: z.array(z.int().min(1).max(65535)).optional(),
            'lm-studio': z.array(z.int().min(1).max(65535)).optional(),
          })
          .optional(),
        /** How long one look for local servers waits for answers, in milliseconds (200). */
        discovery_timeout_ms: z.int().min(1).max(60_000).optional(),
      })
      .optional(),
    /** Folders of agent specs besides `$AGENTD_HOME/agents` (relative to AGENTD_HOME; `~/` is home). */
    agent_dirs: z.array(z.string().min(1)).optional(),
    /**
     * Online evaluation: this share of finished runs is scored after it ends. The judge and
     * evaluators are written as in eval suites and checked when scoring starts (src/evals).
     */
    online_eval: z
      .strictObject({
        sample: z.number().min(0).max(1),
        agents: z.array(z.string().min(1)).optional(),
        judge: z.record(z.string(), z.unknown()).optional(),
        evaluators: z.array(z.unknown()).min(1),
      })
      .optional(),
    /** Long-term memory on this machine (see docs/memory.md). */
    memory: z
      .strictObject({
        /** Who runs are for when `--actor` and AGENTD_ACTOR do not say (default: the OS user). */
        actor: z
          .string()
          .regex(/^[^/\s]+$/, 'an actor id has no "/" or spaces')
          .optional(),
        /**
         * The embedding model every agent's memories are embedded with (one per machine, so all
         * vectors compare). Unset: recall is full-text only, and says so.
         */
        embeddings: z
          .strictObject({
            model: z.string().regex(/^(openai|openai-compatible)\/.+$/, {
              message:
                'write openai/<model> or openai-compatible/<model> (an OpenAI-compatible embeddings endpoint, local or hosted)',
            }),
            base_url: z.url().optional(),
            api_key_env: z
              .string()
              .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
              .optional(),
            dimensions: z.int().positive().optional(),
          })
          .optional(),
      })
      .optional(),
    /**
     * A team's own terms for training on models' outputs (a contract, a licence), overriding the
     * catalog: keys are `provider/model-id`, `*` matching any text (see docs/data.md).
     */
    model_terms: z
      .record(
        z.string().regex(/^[a-z-]+\/.+$/, 'write provider/model-id (a * matches any text)'),
        z.strictObject({
          distillable: z.enum(['yes', 'no', 'unknown']),
          source: z.string().min(1),
          as_of: z
            .string()
            .regex(/^\d{4}-\d{2}-\d{2}$/, 'write the date the terms were checked as YYYY-MM-DD'),
          note: z.string().min(1).optional(),
        }),
      )
      .optional(),
    /** OpenTelemetry export of runs' traces and metrics (see docs/observability.md). */
    telemetry: z
      .strictObject({
        enabled: z.boolean().optional(),
        endpoint: z.url().optional(),
        protocol: z.enum(['http/protobuf', 'http/json', 'grpc']).optional(),
        headers: z.record(z.string(), z.string()).optional(),
        service_name: z.string().min(1).optional(),
        resource_attributes: z.record(z.string(), z.string()).optional(),
        /** Message text, instructions, tool arguments and results in spans (redacted). */
        capture_content: z.boolean().optional(),
        traces: z.boolean().optional(),
        metrics: z.boolean().optional(),
        max_queue: z.int().positive().optional(),
        flush_timeout: z.string().optional(),
      })
      .optional(),
  }),
);

type ConfigFile = z.infer<ReturnType<typeof configSchema>>;
export type ProviderConfig = z.infer<ReturnType<typeof providerConfig>>;
export type OnlineEvalConfig = NonNullable<ConfigFile['online_eval']>;
export type MemoryConfig = NonNullable<ConfigFile['memory']>;
export type TelemetryConfig = NonNullable<ConfigFile['telemetry']>;
export type ModelTermsConfig = NonNullable<ConfigFile['model_terms']>;
export type LocalConfig = NonNullable<ConfigFile['local']>;

/** agentd's settings: `$AGENTD_HOME/config.yaml`, overridden by the environment. */
export interface Config {
  home: string;
  dbPath: string;
  configPath: string;
  durability: Durability;
  /** The Postgres store's URL (`store` in config.yaml, or AGENTD_DATABASE_URL); unset: SQLite at `dbPath`. */
  databaseUrl?: string;
  /** Who drives the server's runs: `here` on SQLite (and when unset); on Postgres `runs` (default `workers`). */
  runs?: 'here' | 'workers' | 'both';
  providers: Partial<
    Record<'anthropic' | 'openai' | 'openai-compatible' | 'ollama' | 'mistral', ProviderConfig>
  >;
  /** `local.model_dirs` from config.yaml as absolute paths, and the ports to look for servers on. */
  local?: { modelDirs: string[]; ports?: LocalConfig['ports']; discoveryTimeoutMs?: number };
  /** `agent_dirs` from config.yaml, as absolute paths (none when unset). */
  agentDirs?: string[];
  /** `online_eval` from config.yaml, as written (see src/evals/online.ts). */
  onlineEval?: OnlineEvalConfig;
  /** `memory` from config.yaml, as written. */
  memory?: MemoryConfig;
  /** `telemetry` from config.yaml, as written (src/telemetry/settings.ts adds the environment). */
  telemetry?: TelemetryConfig;
  /** `model_terms` from config.yaml: a team's terms for training on models' outputs. */
  modelTerms?: ModelTermsConfig;
  env: Readonly<Record<string, string | undefined>>;
}

export function agentdHome(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  return env.AGENTD_HOME || join(homedir(), '.agentd');
}

export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Config {
  const home = agentdHome(env);
  const configPath = join(home, 'config.yaml');
  let file: ConfigFile = {};
  let exists = false;
  try {
    exists = statSync(configPath).isFile();
  } catch {
    exists = false;
  }
  if (exists) file = parseYamlFile(configPath, readFileSync(configPath, 'utf8'), configSchema());
  const durability = env.AGENTD_DURABILITY ?? file.durability ?? 'process';
  if (durability !== 'process' && durability !== 'machine') {
    throw new AgentdError(
      'config_invalid',
      `AGENTD_DURABILITY: "${durability}" is not a durability level (use process or machine)`,
    );
  }
  const databaseUrl = env.AGENTD_DATABASE_URL || file.store;
  if (env.AGENTD_DATABASE_URL && !postgresUrl.test(env.AGENTD_DATABASE_URL)) {
    throw new AgentdError(
      'config_invalid',
      'AGENTD_DATABASE_URL: not a postgres://user@host:port/database URL (unset it for the embedded SQLite file)',
    );
  }
  const runs = env.AGENTD_RUNS || file.runs || (databaseUrl ? 'workers' : 'here');
  if (runs !== 'here' && runs !== 'workers' && runs !== 'both') {
    throw new AgentdError(
      'config_invalid',
      `AGENTD_RUNS: "${runs}" is not who drives runs (use here, workers or both)`,
    );
  }
  if (runs !== 'here' && !databaseUrl) {
    throw new AgentdError(
      'config_invalid',
      `${env.AGENTD_RUNS ? 'AGENTD_RUNS' : `${configPath}: runs`}: "${runs}" needs the Postgres store (set store: postgres://... or AGENTD_DATABASE_URL), or use here`,
    );
  }
  return {
    home,
    dbPath: join(home, 'agentd.db'),
    configPath,
    durability,
    ...(databaseUrl ? { databaseUrl } : {}),
    runs,
    providers: file.providers ?? {},
    agentDirs: (file.agent_dirs ?? []).map((dir) => agentDirPath(dir, home)),
    local: {
      modelDirs: (file.local?.model_dirs ?? []).map((dir) => agentDirPath(dir, home)),
      ...(file.local?.ports ? { ports: file.local.ports } : {}),
      ...(file.local?.discovery_timeout_ms
        ? { discoveryTimeoutMs: file.local.discovery_timeout_ms }
        : {}),
    },
    ...(file.online_eval ? { onlineEval: file.online_eval } : {}),
    ...(file.memory ? { memory: file.memory } : {}),
    ...(file.telemetry ? { telemetry: file.telemetry } : {}),
    ...(file.model_terms ? { modelTerms: file.model_terms } : {}),
    env,
  };
}

/** An `agent_dirs` entry as a path: `~/` is the user's home, relative paths are under AGENTD_HOME. */
export function agentDirPath(dir: string, home: string): string {
  if (dir === '~') return homedir();
  if (dir.startsWith('~/')) return join(homedir(), dir.slice(2));
  return isAbsolute(dir) ? dir : resolve(home, dir);
}
