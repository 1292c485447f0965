import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import { loadAgentSpec } from '../../definition/agent-spec.ts';
import { type EnvironmentSpec, environmentSpec } from '../../definition/environment-spec.ts';
import { environmentServer } from '../../environments/environment-server.ts';
import { openEnvironment } from '../../environments/open-environment.ts';

/**
 * `agentd env serve`: the environment of a spec (or a built-in kind with its defaults) as an
 * MCP server on stdin/stdout, until the client closes its end.
 */
export async function envServeCommand(
  environment: string,
  options: { seed?: number },
  version: string,
): Promise<number> {
  let spec: EnvironmentSpec;
  if (environment === 'gridworld') {
    spec = environmentSpec({ kind: 'gridworld' }, process.cwd());
  } else if (existsSync(environment)) {
    const agent = loadAgentSpec(environment);
    if (!agent.environment) {
      throw new AgentdError(
        'spec_invalid',
        `${environment}: has no environment: section (see docs/environments.md)`,
      );
    }
    spec = agent.environment;
  } else {
    throw new AgentdError(
      'usage',
      `"${environment}" is neither an agent spec file nor a built-in environment (gridworld)`,
    );
  }
  if (options.seed !== undefined) spec = { ...spec, seed: options.seed };
  const config = loadConfig();
  const open = await openEnvironment(spec, {
    env: config.env,
    framesDir: join(config.home, 'frames'),
  });
  const server = environmentServer(open, version);
  await new Promise<void>((resolve) => {
    const handle = serveStdio(() => server);
    process.stdin.once('end', () => {
      void handle.close().finally(resolve);
    });
  });
  await open.close();
  return 0;
}

export interface EnvTrajectoriesFlags {
  filter: string[];
  limit: number;
  output?: string;
  allowTerms: string[];
  allowReason?: string;
  refuseUnknown?: boolean;
}

/**
 * `agentd env trajectories`: `agentd data export trajectories` under its own name: the same
 * terms check, secret scan and lineage; `-o` keeps the dataset folder with its manifest,
 * without it the lines go to stdout.
 */
export async function envTrajectoriesCommand(
  flags: EnvTrajectoriesFlags,
  version: string,
): Promise<number> {
  if (flags.output && /\.jsonl?$/i.test(flags.output)) {
    throw new AgentdError(
      'usage',
      `-o ${flags.output}: give a folder, not a file: a trajectory dataset is a folder (data.jsonl, lineage.jsonl, manifest.json, DATASET.md) that agentd data verify checks; leave -o out for the lines on stdout`,
    );
  }
  const { dataExportCommand } = await import('./data.ts');
  return dataExportCommand(
    'trajectories',
    {
      out: flags.output ?? '',
      format: 'openai',
      filter: flags.filter,
      tag: [],
      exclude: [],
      limit: flags.limit,
      allowTerms: flags.allowTerms,
      ...(flags.allowReason ? { allowReason: flags.allowReason } : {}),
      ...(flags.refuseUnknown ? { refuseUnknown: true } : {}),
      ...(flags.output ? {} : { stdout: true }),
    },
    version,
  );
}

/** `agentd env replay <run>`: the run's episode as a page that plays it back. */
export async function envReplayCommand(
  runRef: string,
  flags: { output?: string },
): Promise<number> {
  const [{ trajectoryOf }, { replayHtml }, { FrameStore }, { openStore }] = await Promise.all([
    import('../../environments/trajectory.ts'),
    import('../../environments/replay-html.ts'),
    import('../../environments/frame-store.ts'),
    import('../../store/open-store.ts'),
  ]);
  const config = loadConfig();
  const store = openStore(config);
  let html: string;
  let runId: string;
  try {
    const run = await store.getRun(runRef);
    if (!run) {
      throw new AgentdError(
        'run_not_found',
        `no run "${runRef}" (or the prefix matches several): see agentd runs list`,
      );
    }
    runId = run.id;
    const trajectory = trajectoryOf(await store.readEvents(run.id));
    if (!trajectory) {
      throw new AgentdError(
        'usage',
        `run ${run.id} took no step in an environment: there is nothing to replay`,
      );
    }
    html = replayHtml(trajectory, new FrameStore(join(config.home, 'frames')));
  } finally {
    await store.close();
  }
  const output = flags.output ?? `replay-${runId}.html`;
  writeFileSync(output, html);
  process.stderr.write(`wrote ${output}: open it in a browser to play the episode back\n`);
  return 0;
}
