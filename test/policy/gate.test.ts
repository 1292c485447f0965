import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { SecretBox } from '../../src/config/secret-box.ts';
import { type OpenEnvironment, openEnvironment } from '../../src/environments/open-environment.ts';
import type { Authorizer, Decision } from '../../src/policy/authorizer.ts';
import { ToolGate } from '../../src/policy/gate.ts';
import { actionOf } from '../../src/policy/manifests.ts';
import { runToolCall } from '../../src/runtime/tool-runner.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { TeamSession } from '../../src/teams/session.ts';
import { teamTools } from '../../src/teams/tools.ts';
import { Registry } from '../../src/tools/registry/registry.ts';
import type { Tool } from '../../src/tools/tool.ts';
import { originOf, type ToolOriginKind } from '../../src/tools/tool-origin.ts';
import { type BuiltinServer, builtinServers, type ToolSource } from '../../src/tools/tool-ref.ts';
import { openToolset, type Toolset } from '../../src/tools/toolset.ts';
import { startEverythingHttp, testServerScript } from '../mcp/support.ts';
import { repoRoot } from '../support/cli.ts';
import { registryEntry } from '../support/registry-entry.ts';
import { tempDir } from '../support/temp-dir.ts';
import { policyFor } from './support.ts';

/**
 * Every kind of source a spec can name. A kind added to ToolSource must be added here (the
 * record is exhaustive, so this does not typecheck until it is), with a call below.
 */
const specSourceKinds: Record<ToolSource['kind'], true> = {
  module: true,
  server: true,
  'registry-search': true,
  resources: true,
};

/** One call of each kind of tool origin: a kind added to ToolOrigin must be added here. */
const callsByOrigin: Record<ToolOriginKind, { name: string; input: Record<string, unknown> }[]> = {
  module: [{ name: 'convert', input: { value: 1, from: 'km', to: 'm' } }],
  connector: [], // filled from `connectorCalls`, one per built-in connector
  'mcp-stdio': [{ name: 'local__write-file', input: { path: 'written-by-stdio', text: 'x' } }],
  'mcp-http': [
    { name: 'remote__echo', input: { message: 'hello' } },
    { name: 'remote__read_resource', input: { uri: 'demo://resource/dynamic/text/3' } },
  ],
  'registry-search': [{ name: 'registry_search', input: { query: 'write a file' } }],
  team: [{ name: 'team__task_create', input: { tasks: [{ title: 'created through the gate' }] } }],
  environment: [{ name: 'env_step', input: { action: 'up' } }],
};

/** One call of each built-in connector: a connector added to builtinServers must be added here. */
const connectorCalls: Record<BuiltinServer, { tool: string; input: Record<string, unknown> }> = {
  fs: { tool: 'write', input: { path: 'written-by-fs.txt', content: 'x' } },
  shell: { tool: 'run', input: { command: 'echo ran > written-by-shell.txt' } },
  http: { tool: 'fetch', input: { url: 'http://127.0.0.1:9/' } },
  settings: { tool: 'list_agents', input: {} },
  memory: { tool: 'save', input: { text: 'The gate decides memory writes too.' } },
};
callsByOrigin.connector = builtinServers.map((server) => ({
  name: `${server}__${connectorCalls[server].tool}`,
  input: connectorCalls[server].input,
}));

/** An authorizer that counts what it is asked, over a real Cedar one. */
function counting(inner: Authorizer): Authorizer & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    policy: inner.policy,
    async authorize(request) {
      asked.push(actionOf(request.origin, request.toolName));
      return inner.authorize(request);
    },
  };
}

describe('every tool source goes through the policy gate', () => {
  let home: string;
  let project: string;
  let toolset: Toolset;
  /** The toolset's tools and a team member's tools (the runtime gives those, not a spec). */
  let tools: Tool[];
  let teamStore: SqliteStore;
  let everything: { url: string; process: ChildProcess } | undefined;
  let environment: OpenEnvironment;

  beforeAll(async () => {
    home = tempDir();
    project = join(home, 'project');
    mkdirSync(project);
    everything = await startEverythingHttp();
    const config = loadConfig({ AGENTD_HOME: home });
    const store = new SqliteStore({ path: config.dbPath });
    const registry = new Registry(store, SecretBox.forHome(home, {}));
    await registry.add(
      registryEntry('local', {
        type: 'stdio',
        command: process.execPath,
        args: [testServerScript],
      }),
      {},
    );
    await registry.add(registryEntry('remote', { type: 'http', url: everything.url }), {});
    await store.close();
    const sources: ToolSource[] = [
      { kind: 'module', module: join(repoRoot, 'examples/unit-converter/tools.ts') },
      ...builtinServers.map(
        (server): ToolSource => ({ kind: 'server', server, tool: '*', ref: `${server}.*` }),
      ),
      { kind: 'server', server: 'local', tool: 'write-file', ref: 'local.write-file' },
      { kind: 'server', server: 'remote', tool: 'echo', ref: 'remote.echo' },
      { kind: 'registry-search' },
      { kind: 'resources', server: 'remote', ref: 'resources:remote' },
    ];
    expect(new Set(sources.map((s) => s.kind))).toEqual(new Set(Object.keys(specSourceKinds)));
    toolset = await openToolset({
      sources,
      specPath: join(project, 'agent.yaml'),
      connectors: { fs: { roots: [project] }, shell: { cwd: project } },
      config,
      cwd: project,
    });
    teamStore = new SqliteStore({ path: ':memory:' });
    const at = new Date().toISOString();
    await teamStore.teams.createTeam(
      {
        id: 'team_gate',
        name: 'crew',
        task: 'gate',
        specPath: '',
        cwd: project,
        leadRunId: 'run_gate',
        status: 'running',
        budget: {},
        createdAt: at,
        updatedAt: at,
      },
      { type: 'team.started', data: {} },
    );
    const lead = { name: 'lead', role: 'lead', lead: true };
    const session = new TeamSession({
      store: teamStore,
      teamId: 'team_gate',
      name: 'crew',
      members: [lead],
    });
    environment = await openEnvironment({ kind: 'gridworld', seed: 1, max_steps: 10 });
    tools = [...toolset.tools, ...teamTools(session, lead), ...environment.tools];
  }, 60_000);

  afterAll(async () => {
    await toolset?.close();
    await teamStore?.close();
    everything?.process.kill();
  });

  it('knows where every tool comes from, and every kind of origin and connector is here', () => {
    const kinds = new Set(tools.map((tool) => originOf(tool).kind));
    expect([...kinds].sort()).toEqual(Object.keys(callsByOrigin).sort());
    const connectors = new Set(
      toolset.tools.flatMap((tool) => {
        const origin = originOf(tool);
        return origin.kind === 'connector' ? [origin.server] : [];
      }),
    );
    expect([...connectors].sort()).toEqual([...builtinServers].sort());
  });

  async function callAll(authorizer: Authorizer) {
    const decisions: Decision[] = [];
    const gate = new ToolGate(tools, authorizer, async (decision) => {
      decisions.push(decision);
    });
    const outcomes = new Map<string, Awaited<ReturnType<typeof runToolCall>>>();
    for (const [kind, calls] of Object.entries(callsByOrigin)) {
      for (const [i, call] of calls.entries()) {
        const outcome = await runToolCall(
          { id: `${kind}-${i}`, name: call.name, input: call.input as never },
          gate,
          {
            runId: 'run-gate',
            idempotencyKey: `run-gate:${kind}-${i}`,
            signal: new AbortController().signal,
          },
        );
        outcomes.set(call.name, outcome);
      }
    }
    return { outcomes, decisions };
  }

  const allCalls = () => Object.values(callsByOrigin).flat();
  const sideEffects = () => [
    join(project, 'written-by-fs.txt'),
    join(project, 'written-by-shell.txt'),
    join(home, 'servers', 'local', 'written-by-stdio'),
  ];

  it('under a deny-all policy set, every call of every source is authorized, denied, and never runs', async () => {
    const authorizer = counting(
      await policyFor(
        home,
        { 'deny.cedar': 'forbid (principal, action, resource);' },
        {
          tools,
          connectors: { fs: { roots: [project] } },
          cwd: project,
        },
      ),
    );
    const { outcomes, decisions } = await callAll(authorizer);
    expect(authorizer.asked.length).toBe(allCalls().length);
    for (const call of allCalls()) {
      const outcome = outcomes.get(call.name);
      expect(outcome, call.name).toMatchObject({ isError: true, errorKind: 'denied' });
      expect(String(outcome?.output)).toMatch(/^Denied by policy: forbidden by .*deny\.cedar:1/);
    }
    expect(decisions.every((d) => d.decision === 'deny' && d.effect === 'deny')).toBe(true);
    for (const file of sideEffects()) expect(existsSync(file), file).toBe(false);
    expect(await teamStore.teams.listTasks('team_gate')).toEqual([]);
    expect(environment.episode.observation?.state?.step).toBe(0);
  });

  it('under an allow-all policy set, the same calls really run', async () => {
    const authorizer = counting(
      await policyFor(
        home,
        { 'deny.cedar': 'permit (principal, action, resource);' },
        {
          tools,
          connectors: { fs: { roots: [project] } },
          cwd: project,
        },
      ),
    );
    const { outcomes } = await callAll(authorizer);
    expect(authorizer.asked.length).toBe(allCalls().length);
    for (const call of allCalls()) {
      expect(outcomes.get(call.name)?.errorKind, call.name).not.toBe('denied');
    }
    expect(outcomes.get('remote__echo')?.output).toMatch(/hello/);
    for (const file of sideEffects()) expect(existsSync(file), file).toBe(true);
    expect((await teamStore.teams.listTasks('team_gate')).map((t) => t.title)).toEqual([
      'created through the gate',
    ]);
    expect(environment.episode.observation?.state?.step).toBe(1);
  });

  it('a permit runs once, and only the gate that issued it runs it', async () => {
    const gate = new ToolGate(toolset.tools);
    const other = new ToolGate(toolset.tools);
    const call = { id: 'c1', name: 'convert', input: { value: 1, from: 'km', to: 'm' } };
    const authorization = await gate.authorize(call, call.input);
    if (authorization.effect !== 'allow') throw new Error('expected a permit');
    const context = {
      runId: 'r',
      callId: 'c1',
      idempotencyKey: 'r:1',
      repeated: false,
      signal: new AbortController().signal,
    };
    await expect(other.execute(authorization.permit, context)).rejects.toThrow(
      /not issued by this gate/,
    );
    await expect(gate.execute(authorization.permit, context)).resolves.toBeDefined();
    await expect(gate.execute(authorization.permit, context)).rejects.toThrow(/or was used/);
    await expect(gate.execute({ tool: 'convert' }, context)).rejects.toThrow(/not issued/);
  });

  it('nothing in agentd runs a tool but the gate: no other call of execute() or callTool()', () => {
    const allowed = new Map([
      ['src/policy/gate.ts', /\.execute\(/], // the gate itself
      ['src/tools/define-tool.ts', /definition\.execute\(/], // a defined tool calls its own function
      ['src/tools/mcp/mcp-tool.ts', /connection\.callTool\(/], // an MCP tool calls its server
      ['src/tools/mcp/mcp-connection.ts', /client\.callTool\(/], // the connection speaks MCP
    ]);
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (path.endsWith('.ts')) {
          const file = relative(repoRoot, path);
          readFileSync(path, 'utf8')
            .split('\n')
            .forEach((line, i) => {
              if (!/\.(execute|callTool|forward)\(/.test(line)) return;
              if (file === 'src/runtime/tool-runner.ts' && /gate\.execute\(/.test(line)) return;
              if (allowed.get(file)?.test(line)) return;
              offenders.push(`${file}:${i + 1}: ${line.trim()}`);
            });
        }
      }
    };
    walk(join(repoRoot, 'src'));
    // The MCP gateway forwards a request (a tool call, resource read, prompt or completion) to
    // its server itself, after the same Cedar authorizer decided it and the audit log recorded
    // it (src/server/gateway-policy.ts): it is the one exception, in one place
    // (GatewayUpstreams.forward), called only from the gateway's request handlers, and every
    // handler that forwards decides first and refuses before it forwards.
    const gateway = 'src/server/gateway.ts';
    const upstreams = 'src/server/gateway-upstreams.ts';
    const upstreamCalls = offenders.filter((o) => o.startsWith(`${upstreams}:`));
    expect(upstreamCalls).toHaveLength(1);
    expect(upstreamCalls[0]).toMatch(/connection\.forward\(/);
    const gatewayCalls = offenders.filter((o) => o.startsWith(`${gateway}:`));
    expect(gatewayCalls.length).toBeGreaterThanOrEqual(4);
    for (const call of gatewayCalls) expect(call).toMatch(/this\.#upstreams\.forward\(/);
    const text = readFileSync(join(repoRoot, gateway), 'utf8');
    expect(text).toMatch(/async #decide\([\s\S]*?this\.#options\.authorize\(/);
    expect(text).toMatch(
      /async #enforce\([\s\S]*?this\.#decide\([\s\S]*?if \(!verdict\.allow\) \{\s*throw/,
    );
    const handlers = text
      .split('server.setRequestHandler(')
      .slice(1)
      .map((h) => h.slice(0, h.indexOf('\n    });')));
    const forwarding = handlers.filter((h) => h.includes('this.#upstreams.forward('));
    expect(forwarding.length).toBeGreaterThanOrEqual(4);
    for (const handler of forwarding) {
      const forwarded = handler.indexOf('this.#upstreams.forward(');
      const decided = Math.max(
        handler.lastIndexOf('this.#decide(', forwarded),
        handler.lastIndexOf('this.#enforce(', forwarded),
      );
      expect(decided, handler.slice(0, 40)).toBeGreaterThan(-1);
      if (handler.includes('this.#decide(')) {
        const refused = handler.indexOf('if (!verdict.allow) return', decided);
        expect(refused).toBeGreaterThan(decided);
        expect(forwarded).toBeGreaterThan(refused);
      }
    }
    expect(
      offenders.filter((o) => !o.startsWith(`${gateway}:`) && !o.startsWith(`${upstreams}:`)),
    ).toEqual([]);
  });
});
