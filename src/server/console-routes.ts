import type { Hono } from 'hono';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import { agentsApi, agentsOpenApi } from './agents-api.ts';
import { type AppEnv, scoped } from './app.ts';
import { sessionOpenApi } from './console-session.ts';
import { evalsApi, evalsOpenApi } from './evals-api.ts';
import { memoryApi, memoryOpenApi } from './memory-api.ts';
import type { OpenApiPart } from './openapi-parts.ts';
import { policySetsApi, policySetsOpenApi } from './policy-sets-api.ts';
import { registryServersApi, registryServersOpenApi } from './registry-servers-api.ts';
import type { RunManager } from './run-manager.ts';
import { teamsApi, teamsOpenApi } from './teams-api.ts';

/** The OpenAPI parts of the routes below (and of sign-in), merged into `/openapi.json`. */
export const consoleOpenApiParts: readonly OpenApiPart[] = [
  sessionOpenApi,
  agentsOpenApi,
  teamsOpenApi,
  evalsOpenApi,
  memoryOpenApi,
  registryServersOpenApi,
  policySetsOpenApi,
];

/**
 * The routes the web console needs beyond runs, approvals, policies and audit, each behind
 * its scope: agents (`runs`), teams, evaluations, memory, the registry's servers (`registry`;
 * changes `registry_admin` too) and stored policy sets with what-if (`policies`).
 */
export function registerConsoleRoutes(
  app: Hono<AppEnv>,
  options: { store: Store; config?: Config; manager?: RunManager },
): void {
  const { store, config, manager } = options;
  app.use('/teams', scoped('teams'));
  app.use('/teams/*', scoped('teams'));
  app.route('/teams', teamsApi(store, manager));
  app.use('/evals/*', scoped('evals'));
  app.route('/evals', evalsApi(store));
  if (!config) return;
  app.use('/agents', scoped('runs'));
  app.route('/agents', agentsApi(config));
  app.use('/memory', scoped('memory'));
  app.use('/memory/*', scoped('memory'));
  app.route('/memory', memoryApi(store, config));
  app.route('/registry/servers', registryServersApi(store, config));
  app.route('/policies', policySetsApi(store, config));
}
