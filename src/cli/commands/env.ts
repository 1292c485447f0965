import { existsSync } from 'node:fs';
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
