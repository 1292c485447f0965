import { writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { parseAgentSpec } from '../../src/definition/agent-spec.ts';
import { discoverServers } from '../../src/models/local/discovery.ts';
import { resolveModel } from '../../src/models/providers.ts';
import { agentd } from '../support/cli.ts';
import { tempDir } from '../support/temp-dir.ts';

const servers: Server[] = [];
const held: ServerResponse[] = [];
afterEach(async () => {
  for (const res of held.splice(0)) res.destroy();
  await Promise.all(
    servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
});

/** A server on 127.0.0.1 at a free port; `routes` maps a path to its JSON body, `hang` never answers. */
async function fakeServer(routes: Record<string, unknown> | 'hang'): Promise<number> {
  const server = createServer((req, res) => {
    if (routes === 'hang') {
      held.push(res);
      return;
    }
    const body = routes[req.url ?? ''];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const ollamaTags = {
  models: [
    {
      name: 'qwen3:8b',
      model: 'qwen3:8b',
      details: { family: 'qwen3', parameter_size: '8.2B', quantization_level: 'Q4_K_M' },
    },
  ],
};
const llamaCppModels = { object: 'list', data: [{ id: 'gemma-3-4b-it-q4', object: 'model' }] };

function homeWithPorts(ports: Record<string, number[]>): string {
  const home = tempDir();
  const lines = Object.entries(ports).map(([kind, list]) => `    ${kind}: [${list.join(', ')}]`);
  // A generous deadline: what is found must not depend on how busy the machine is.
  writeFileSync(
    join(home, 'config.yaml'),
    `local:\n  discovery_timeout_ms: 30000\n  ports:\n${lines.join('\n')}\n`,
  );
  return home;
}

describe('discovery of model servers on 127.0.0.1', () => {
  it('finds Ollama by /api/tags and a llama.cpp server by /v1/models', async () => {
    const ollama = await fakeServer({ '/api/tags': ollamaTags });
    const llamaCpp = await fakeServer({ '/v1/models': llamaCppModels });
    const found = await discoverServers({
      ports: { ollama: [ollama], 'llama-cpp': [llamaCpp], vllm: [], 'lm-studio': [] },
      // A generous deadline: what is found must not depend on how busy the machine is.
      timeoutMs: 10_000,
    });
    expect(found).toEqual([
      {
        kind: 'ollama',
        label: 'Ollama',
        port: ollama,
        baseUrl: `http://127.0.0.1:${ollama}/v1`,
        models: [
          {
            ref: 'ollama/qwen3:8b',
            id: 'qwen3:8b',
            details: { family: 'qwen3', parameters: '8.2B', quantization: 'Q4_K_M' },
          },
        ],
      },
      {
        kind: 'llama-cpp',
        label: 'llama.cpp server',
        port: llamaCpp,
        baseUrl: `http://127.0.0.1:${llamaCpp}/v1`,
        models: [{ ref: 'openai-compatible/gemma-3-4b-it-q4', id: 'gemma-3-4b-it-q4' }],
      },
    ]);
  });

  it('leaves out a server that never answers, a wrong answer and a closed port', async () => {
    const hanging = await fakeServer('hang');
    const wrong = await fakeServer({ '/api/tags': { hello: 'world' } });
    const closed = await fakeServer({});
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));
    const found = await discoverServers({
      ports: { ollama: [hanging, wrong], 'llama-cpp': [closed], vllm: [], 'lm-studio': [] },
      timeoutMs: 200,
    });
    expect(found).toEqual([]);
  });

  it('ollama/<model> runs without a base URL on the Ollama found', async () => {
    const ollama = await fakeServer({ '/api/tags': ollamaTags });
    const home = homeWithPorts({ ollama: [ollama], 'llama-cpp': [], vllm: [], 'lm-studio': [] });
    const spec = parseAgentSpec(join(home, 'agent.yaml'), 'name: t\nmodel: ollama/qwen3:8b\n');
    const resolved = await resolveModel(spec, loadConfig({ AGENTD_HOME: home }));
    expect(resolved.model.provider).toBe('ollama');
    expect(resolved.model.entry?.contextWindow).toBeGreaterThan(0);
    expect(resolved.notices).toContain(
      `ollama/qwen3:8b: using the Ollama found at http://127.0.0.1:${ollama}/v1`,
    );

    const missing = parseAgentSpec(join(home, 'agent.yaml'), 'name: t\nmodel: ollama/phi4\n');
    await expect(resolveModel(missing, loadConfig({ AGENTD_HOME: home }))).rejects.toThrow(
      /has no such model \(it has qwen3:8b\); run ollama pull phi4/,
    );
  });

  it('openai-compatible/<model> without a base URL uses the server that serves it', async () => {
    const llamaCpp = await fakeServer({ '/v1/models': llamaCppModels });
    const home = homeWithPorts({ ollama: [], 'llama-cpp': [llamaCpp], vllm: [], 'lm-studio': [] });
    const config = loadConfig({ AGENTD_HOME: home });
    const spec = parseAgentSpec(
      join(home, 'agent.yaml'),
      'name: t\nmodel: openai-compatible/gemma-3-4b-it-q4\n',
    );
    const resolved = await resolveModel(spec, config);
    expect(resolved.notices).toContain(
      `openai-compatible/gemma-3-4b-it-q4: using the llama.cpp server found at http://127.0.0.1:${llamaCpp}/v1`,
    );
    const other = parseAgentSpec(join(home, 'agent.yaml'), 'name: t\nmodel: openai-compatible/x\n');
    await expect(resolveModel(other, config)).rejects.toThrow(
      /no server on 127\.0\.0\.1 serves it/,
    );
  });

  it('agentd models --local lists the servers found and the GGUF files, with no configuration but ports', async () => {
    const ollama = await fakeServer({ '/api/tags': ollamaTags });
    const llamaCpp = await fakeServer({ '/v1/models': llamaCppModels });
    const home = homeWithPorts({
      ollama: [ollama],
      'llama-cpp': [llamaCpp],
      vllm: [],
      'lm-studio': [],
    });
    const text = await agentd(['models', '--local'], { home });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/ollama\/qwen3:8b\s+qwen3\s+8\.2B\s+Q4_K_M/);
    expect(text.stdout).toContain('openai-compatible/gemma-3-4b-it-q4');
    const json = await agentd(['models', '--local', '--json'], { home });
    const rows = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { ref: string; baseUrl?: string });
    expect(rows.map((r) => r.ref)).toEqual([
      'ollama/qwen3:8b',
      'openai-compatible/gemma-3-4b-it-q4',
    ]);
    expect(rows[0]?.baseUrl).toBe(`http://127.0.0.1:${ollama}/v1`);
  }, 60_000);

  it('config.yaml local.ports is checked: a port that is not a number is one line', async () => {
    const home = tempDir();
    writeFileSync(join(home, 'config.yaml'), 'local:\n  ports:\n    ollama: [abc]\n');
    const result = await agentd(['models', '--local'], { home });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/config\.yaml: local\.ports\.ollama/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
