import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { type Config, loadConfig } from '../../src/config/config.ts';
import { SecretBox } from '../../src/config/secret-box.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { createSettingsServer } from '../../src/tools/connectors/settings-server.ts';
import { Registry } from '../../src/tools/registry/registry.ts';
import { defaultContainment, type ServerEntry } from '../../src/tools/registry/server-entry.ts';
import { tempDir } from '../support/temp-dir.ts';
import { connect, type ToolOutcome } from './connect.ts';

/** Not shaped like any known key format, so only never showing it keeps it out. */
const fileKey = 'cfgkey-7f3a9c1e5b2d4a6f8e0c';
const envKey = 'envkey-0b1c2d3e4f5a6b7c8d9e';
const serverSecret = 'srvsecret-9a8b7c6d5e4f3a2b1c0d';

const configText = `# agentd settings for this machine
durability: process # fsync on commit is enough here

providers:
  # the key stays here, never in a tool result
  anthropic: { api_key: ${fileKey} }
  openai-compatible:
    base_url: http://localhost:11434/v1 # ollama
`;

const goodSpec = (
  name: string,
  description = 'Answers questions about the weather.',
) => `name: ${name}
description: ${description}
model: anthropic/claude-sonnet-4-5
instructions: |
  You answer questions.
tools:
  - settings.list_agents
`;

/** A temporary AGENTD_HOME with a config.yaml, agents and a registered server. */
async function setup(options: { config?: string } = {}) {
  const home = tempDir('agentd-settings-');
  writeFileSync(join(home, 'config.yaml'), options.config ?? configText);
  const agents = join(home, 'agents');
  mkdirSync(join(agents, 'helper'), { recursive: true });
  writeFileSync(join(agents, 'weather.yaml'), goodSpec('weather'));
  writeFileSync(
    join(agents, 'helper', 'agent.yaml'),
    `name: helper\nmodel: openai/gpt-5\ninstructions: |\n\n  Helps with chores.\n  Second line.\n`,
  );
  writeFileSync(join(agents, 'broken.yaml'), 'name: broken\nmodel: antropic/claude-sonnet-4-5\n');
  writeFileSync(join(agents, 'notes.txt'), 'not an agent');
  const env = { AGENTD_HOME: home, OPENAI_API_KEY: envKey };
  const config = (): Config => loadConfig(env);
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  onTestFinished(() => store.close());
  const registry = new Registry(store, SecretBox.forHome(home, env));
  const entry: ServerEntry = {
    name: 'tickets',
    source: { kind: 'url' },
    transport: { type: 'http', url: 'https://mcp.example.com/mcp' },
    env: {},
    headers: { 'x-team': 'ops' },
    secrets: [],
    secretHeaders: ['TICKETS_TOKEN'],
    roots: [],
    containment: defaultContainment,
    enabled: true,
  };
  await registry.add(entry, { TICKETS_TOKEN: serverSecret });
  await registry.setTools('tickets', [
    { name: 'create_ticket', description: 'Create a ticket', inputSchema: { type: 'object' } },
    { name: 'find_tickets', description: 'Find tickets', inputSchema: { type: 'object' } },
  ]);
  return { home, config, registry, configPath: join(home, 'config.yaml') };
}

const changingTools = ['enable_server', 'disable_server', 'set_config'];
const readingTools = ['list_agents', 'show_agent', 'list_servers', 'show_server', 'get_config'];

function expectNoSecret(outcome: ToolOutcome) {
  const all = JSON.stringify(outcome);
  for (const secret of [fileKey, envKey, serverSecret]) expect(all).not.toContain(secret);
}

describe('settings connector', () => {
  test('read only by default: the changing tools are not offered at all', async () => {
    const { config } = await setup();
    const { client } = await connect(createSettingsServer({ config: config() }));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...readingTools].sort());
    for (const tool of tools) {
      expect(tool.annotations, tool.name).toMatchObject({
        readOnlyHint: true,
        destructiveHint: false,
      });
    }
    expect(client.getInstructions()).toMatch(/Read only: this agent can look but not change/);
    await expect(
      client.callTool({ name: 'set_config', arguments: { key: 'durability', value: 'machine' } }),
    ).rejects.toThrow(/Tool set_config not found/);

    const writable = await connect(createSettingsServer({ config: config(), readOnly: false }));
    const all = (await writable.client.listTools()).tools;
    expect(all.map((t) => t.name).sort()).toEqual([...readingTools, ...changingTools].sort());
    for (const tool of all.filter((t) => changingTools.includes(t.name))) {
      expect(tool.annotations, tool.name).toMatchObject({
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: false,
      });
    }
  });

  test('lists the agents of $AGENTD_HOME/agents and agent_dirs, a broken one with its error', async () => {
    const { home, config } = await setup();
    const more = join(home, 'more');
    mkdirSync(join(more, 'reviewer'), { recursive: true });
    writeFileSync(join(more, 'reviewer', 'agent.yaml'), goodSpec('reviewer', 'Reviews diffs.'));
    writeFileSync(join(more, 'weather.yaml'), goodSpec('weather', 'A second weather agent.'));
    writeFileSync(join(more, 'misnamed.yaml'), goodSpec('other-name'));
    writeFileSync(
      join(home, 'config.yaml'),
      `${configText}agent_dirs: [more, ${join(home, 'missing')}]\n`,
    );
    const settings = await connect(createSettingsServer({ config: config() }));
    const listed = await settings.call('list_agents');
    expect(listed.isError).toBe(false);
    const agents = listed.structured.agents as Array<Record<string, unknown>>;
    expect(agents.map((a) => [a.name, a.valid])).toEqual([
      ['broken', false],
      ['helper', true],
      ['weather', true],
      ['misnamed', false],
      ['reviewer', true],
      ['weather', false],
    ]);
    expect(agents[0]).toMatchObject({
      path: join(home, 'agents', 'broken.yaml'),
      model: 'antropic/claude-sonnet-4-5',
      error: `${join(home, 'agents', 'broken.yaml')}: model: unknown provider "antropic" (known: anthropic, openai, openai-compatible, ollama, local, scripted)`,
    });
    expect(agents[1]).toMatchObject({
      path: join(home, 'agents', 'helper', 'agent.yaml'),
      model: 'openai/gpt-5',
      description: 'Helps with chores.',
    });
    expect(agents[2]).toMatchObject({ description: 'Answers questions about the weather.' });
    expect(agents[3]!.error).toMatch(/name: "other-name" differs from its file name "misnamed"/);
    expect(agents[5]!.error).toMatch(
      /hidden by the agent of the same name in .*agents\/weather\.yaml/,
    );
    expect(listed.structured.notes).toEqual([
      `agent_dirs: ${join(home, 'missing')} does not exist (create it, or remove it from config.yaml)`,
    ]);
    expect(listed.text).toContain('- broken: broken: ');
    expect(listed.text).toContain('note: agent_dirs: ');

    const shown = await settings.call('show_agent', { name: 'weather' });
    expect(shown.isError).toBe(false);
    expect(shown.structured.spec).toMatchObject({
      name: 'weather',
      model: 'anthropic/claude-sonnet-4-5',
      tools: ['settings.list_agents'],
      instructions: 'You answer questions.\n',
    });
    const broken = await settings.call('show_agent', { name: 'broken' });
    expect(broken.text).toMatch(/^agent "broken" is broken: .*unknown provider "antropic"/);
    const unknown = await settings.call('show_agent', { name: 'nobody' });
    expect(unknown.isError).toBe(true);
    expect(unknown.text).toMatch(/^no agent "nobody" \(known: broken, helper, weather, misnamed/);
  });

  test('enable and disable round trip in the registry; servers show secrets by name only', async () => {
    const { config, registry } = await setup();
    const settings = await connect(createSettingsServer({ config: config(), readOnly: false }));
    const listed = await settings.call('list_servers');
    expect(listed.structured.servers).toEqual([
      {
        name: 'tickets',
        transport: 'http',
        runs_as: 'http: https://mcp.example.com/mcp',
        enabled: true,
        tools: 2,
        containment: defaultContainment,
        secrets: ['TICKETS_TOKEN'],
      },
    ]);
    expect(listed.structured.builtin).toEqual(['fs', 'shell', 'http', 'settings', 'memory']);

    const disabled = await settings.call('disable_server', { name: 'tickets' });
    expect(disabled).toMatchObject({ isError: false, text: '"tickets" is now disabled' });
    expect((await registry.get('tickets')).enabled).toBe(false);
    expect((await settings.call('list_servers')).text).toMatch(/- tickets: disabled, 2 tools/);
    expect((await settings.call('disable_server', { name: 'tickets' })).text).toBe(
      '"tickets" was already disabled',
    );
    expect((await settings.call('enable_server', { name: 'tickets' })).text).toBe(
      '"tickets" is now enabled',
    );
    expect((await registry.get('tickets')).enabled).toBe(true);
    // the secret itself survives the change
    expect(await registry.secretsOf('tickets')).toEqual({ TICKETS_TOKEN: serverSecret });

    const shown = await settings.call('show_server', { name: 'tickets' });
    expect(shown.structured).toMatchObject({
      headers: { 'x-team': 'ops' },
      secrets: ['TICKETS_TOKEN'],
      tool_list: [
        { name: 'create_ticket', description: 'Create a ticket' },
        { name: 'find_tickets', description: 'Find tickets' },
      ],
    });
    const builtin = await settings.call('disable_server', { name: 'fs' });
    expect(builtin.isError).toBe(true);
    expect(builtin.text).toMatch(/^"fs" is a built-in connector, not a registered server/);
    const missing = await settings.call('enable_server', { name: 'nope' });
    expect(missing).toMatchObject({
      isError: true,
      text: 'no MCP server "nope" is registered: see agentd mcp list',
    });
  });

  test('no tool result ever carries an API key or a server secret', async () => {
    const { config, home } = await setup();
    const settings = await connect(createSettingsServer({ config: config(), readOnly: false }));
    const got = await settings.call('get_config');
    expect(got.isError).toBe(false);
    expect(got.structured).toEqual({
      path: join(home, 'config.yaml'),
      exists: true,
      durability: { value: 'process', in_file: 'process', overridden_by: null },
      providers: {
        anthropic: {
          base_url: null,
          base_url_overridden_by: null,
          api_key_set: true,
          api_key_from: 'config.yaml',
        },
        openai: {
          base_url: null,
          base_url_overridden_by: null,
          api_key_set: true,
          api_key_from: 'OPENAI_API_KEY',
        },
        'openai-compatible': {
          base_url: 'http://localhost:11434/v1',
          base_url_overridden_by: null,
          api_key_set: false,
          api_key_from: null,
        },
      },
      agent_dirs: [],
    });
    expect(got.text).toContain('anthropic: API key set (config.yaml); base_url not set');
    const outcomes: ToolOutcome[] = [got];
    for (const [name, args] of [
      ['list_agents', {}],
      ['show_agent', { name: 'weather' }],
      ['show_agent', { name: 'broken' }],
      ['list_servers', {}],
      ['show_server', { name: 'tickets' }],
      ['disable_server', { name: 'tickets' }],
      ['enable_server', { name: 'tickets' }],
      ['set_config', { key: 'providers.anthropic.api_key', value: 'sk-new' }],
      ['set_config', { key: 'providers.anthropic.base_url', value: 'https://proxy.example/v1' }],
      ['set_config', { key: 'durability', value: 'fast' }],
      ['get_config', {}],
    ] as const) {
      outcomes.push(await settings.call(name, args));
    }
    for (const outcome of outcomes) expectNoSecret(outcome);
    // the key is still in the file, untouched
    expect(readFileSync(join(home, 'config.yaml'), 'utf8')).toContain(`api_key: ${fileKey}`);
  });

  test('set_config rewrites config.yaml keeping its comments and other keys', async () => {
    const { config, configPath, home } = await setup();
    const settings = await connect(createSettingsServer({ config: config(), readOnly: false }));

    const durability = await settings.call('set_config', { key: 'durability', value: 'machine' });
    expect(durability.isError, durability.text).toBe(false);
    expect(durability.text).toMatch(/^durability set to "machine" in .*config\.yaml/);
    const base = await settings.call('set_config', {
      key: 'providers.anthropic.base_url',
      value: 'https://proxy.example/v1',
    });
    expect(base.isError, base.text).toBe(false);
    mkdirSync(join(home, 'team-agents'));
    const dirs = await settings.call('set_config', { key: 'agent_dirs', value: ['team-agents'] });
    expect(dirs.text).toMatch(/agent_dirs set to \["team-agents"\].*; 3 agents found$/);
    const removed = await settings.call('set_config', {
      key: 'providers.openai-compatible.base_url',
      value: null,
    });
    expect(removed.text).toMatch(/^providers\.openai-compatible\.base_url removed in /);

    expect(readFileSync(configPath, 'utf8')).toBe(`# agentd settings for this machine
durability: machine # fsync on commit is enough here

providers:
  # the key stays here, never in a tool result
  anthropic: { api_key: ${fileKey}, base_url: https://proxy.example/v1 }
agent_dirs:
  - team-agents
`);
    const loaded = config();
    expect(loaded.durability).toBe('machine');
    expect(loaded.providers.anthropic).toEqual({
      api_key: fileKey,
      base_url: 'https://proxy.example/v1',
    });
    expect(loaded.agentDirs).toEqual([join(home, 'team-agents')]);
    const got = await settings.call('get_config');
    expect(got.structured.agent_dirs).toEqual([
      { as_written: 'team-agents', path: join(home, 'team-agents') },
    ]);
  });

  test('set_config refuses bad values, API keys and other keys in one line, leaving the file as it was', async () => {
    const { config, configPath } = await setup();
    const settings = await connect(createSettingsServer({ config: config(), readOnly: false }));
    const before = readFileSync(configPath, 'utf8');
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { key: 'durability', value: 'fast' },
        /^set_config durability: durability: "fast" is not allowed \(use one of: process, machine\); .*config\.yaml is unchanged$/,
      ],
      [
        { key: 'providers.openai.base_url', value: 'not a url' },
        /^set_config providers\.openai\.base_url: providers\.openai\.base_url: .*"not a url".*; .*is unchanged$/,
      ],
      [
        { key: 'agent_dirs', value: 'one-folder' },
        /^set_config agent_dirs: agent_dirs: expected array, got "one-folder"; .*is unchanged$/,
      ],
      [
        { key: 'providers.anthropic.api_key', value: 'sk-ant-new' },
        /^set_config: API keys cannot be set through the settings connector; a person puts them in .*config\.yaml or the provider's environment variable/,
      ],
      [
        { key: 'providers.mistral.base_url', value: 'https://api.mistral.ai/v1' },
        /^set_config: unknown provider "mistral" in "providers\.mistral\.base_url" \(known: anthropic, openai, openai-compatible\)$/,
      ],
      [
        { key: 'theme', value: 'dark' },
        /^set_config: "theme" cannot be set here \(settable: durability, agent_dirs, providers\.<anthropic\|openai\|openai-compatible>\.base_url\)$/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const outcome = await settings.call('set_config', args);
      expect(outcome.isError, JSON.stringify(args)).toBe(true);
      expect(outcome.text.split('\n')).toHaveLength(1);
      expect(outcome.text).toMatch(pattern);
      expect(readFileSync(configPath, 'utf8')).toBe(before);
    }
  });

  test('set_config creates config.yaml when there is none, and refuses to touch one that is not YAML', async () => {
    const { config, configPath } = await setup();
    const settings = await connect(createSettingsServer({ config: config(), readOnly: false }));
    writeFileSync(configPath, 'durability: [process\n');
    const refused = await settings.call('set_config', { key: 'durability', value: 'machine' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toMatch(
      /config\.yaml is not valid YAML \(line \d+\); a person must fix it first/,
    );
    expect(readFileSync(configPath, 'utf8')).toBe('durability: [process\n');

    const fresh = await setup({ config: '' });
    const other = await connect(createSettingsServer({ config: fresh.config(), readOnly: false }));
    const set = await other.call('set_config', {
      key: 'providers.openai.base_url',
      value: 'http://127.0.0.1:8080/v1',
    });
    expect(set.isError, set.text).toBe(false);
    expect(readFileSync(fresh.configPath, 'utf8')).toBe(
      'providers:\n  openai:\n    base_url: http://127.0.0.1:8080/v1\n',
    );
  });
});
