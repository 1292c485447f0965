import { describe, expect, it } from 'vitest';
import { parseAgentSpec } from '../../src/definition/agent-spec.ts';

describe('agent spec', () => {
  it('reads every field, with paths relative to the file', () => {
    const spec = parseAgentSpec(
      '/agents/a.yaml',
      `name: a
model: openai/gpt-5.1
provider: { base_url: "http://localhost:8080/v1", api: chat, api_key_env: MY_KEY }
model_settings: { temperature: 0.2, top_p: 0.9, max_output_tokens: 100, stop: [END], seed: 7 }
effort: high
instructions: be brief
tools:
  - module: ./tools.ts
    only: [a]
  - fs.read
  - mcp:github/*
  - registry:search
connectors: { fs: { roots: [., docs] }, shell: { timeout: 30s } }
limits: { max_turns: 9, max_tool_repairs: 1, max_tokens: 5000, max_cost_usd: 0.5, max_time: 1h30m }
compaction: { enabled: true, threshold: 0.7, keep_recent_turns: 2, model: anthropic/claude-haiku-4-5, context_window: 9000 }
script: ./s.yaml
`,
    );
    expect(spec).toEqual({
      path: '/agents/a.yaml',
      name: 'a',
      provider: 'openai',
      modelId: 'gpt-5.1',
      providerOptions: { baseUrl: 'http://localhost:8080/v1', api: 'chat', apiKeyEnv: 'MY_KEY' },
      settings: {
        temperature: 0.2,
        topP: 0.9,
        maxOutputTokens: 100,
        stopSequences: ['END'],
        seed: 7,
        effort: 'high',
      },
      instructions: 'be brief',
      tools: [
        { kind: 'module', module: '/agents/tools.ts', only: ['a'] },
        { kind: 'server', server: 'fs', tool: 'read', ref: 'fs.read' },
        { kind: 'server', server: 'github', tool: '*', ref: 'mcp:github/*' },
        { kind: 'registry-search' },
      ],
      connectors: { fs: { roots: ['.', 'docs'] }, shell: { timeoutMs: 30_000 } },
      limits: {
        maxTurns: 9,
        maxToolRepairs: 1,
        maxTokens: 5000,
        maxCostUsd: 0.5,
        maxTimeMs: 5_400_000,
      },
      compaction: {
        enabled: true,
        threshold: 0.7,
        keepRecentTurns: 2,
        model: 'anthropic/claude-haiku-4-5',
        contextWindow: 9000,
      },
      script: '/agents/s.yaml',
    });
  });

  it('takes max_time as seconds or a duration', () => {
    const base = 'name: a\nmodel: anthropic/claude-sonnet-5-5\nlimits:\n  max_time: ';
    expect(parseAgentSpec('a.yaml', `${base}90`).limits.maxTimeMs).toBe(90_000);
    expect(parseAgentSpec('a.yaml', `${base}"500ms"`).limits.maxTimeMs).toBe(500);
    expect(parseAgentSpec('a.yaml', `${base}2h`).limits.maxTimeMs).toBe(7_200_000);
  });

  it('says what a tool reference may be', () => {
    expect(() =>
      parseAgentSpec('a.yaml', 'name: a\nmodel: anthropic/x\ntools: [github]\n'),
    ).toThrow(
      /^a\.yaml: tools\.0: "github" is not a tool reference \(write server\.tool, server\.\*, mcp:server\/tool, registry:search, resources:server, or \{ module: \.\/tools\.ts \}\)$/,
    );
    expect(() =>
      parseAgentSpec('a.yaml', 'name: a\nmodel: anthropic/x\ntools: [{ modul: x }]\n'),
    ).toThrow(/^a\.yaml: tools\.0: unknown field "modul"$/);
  });

  it('names a model id with slashes (OpenRouter) whole', () => {
    const spec = parseAgentSpec(
      'a.yaml',
      'name: a\nmodel: openai-compatible/meta-llama/llama-3.3-70b\n',
    );
    expect(spec.provider).toBe('openai-compatible');
    expect(spec.modelId).toBe('meta-llama/llama-3.3-70b');
  });

  it("reads the shell connector's sandbox, network and paths", () => {
    const spec = parseAgentSpec(
      'a.yaml',
      `name: a
model: anthropic/x
connectors:
  shell:
    cwd: work
    timeout: 90
    sandbox: required
    network: true
    paths: [../data, { path: ../out, writable: true }, { path: ../ref }]
`,
    );
    expect(spec.connectors.shell).toEqual({
      cwd: 'work',
      timeoutMs: 90_000,
      sandbox: 'required',
      network: true,
      paths: [
        { path: '../data', writable: false },
        { path: '../out', writable: true },
        { path: '../ref', writable: false },
      ],
    });
  });

  it("says in one line what is wrong with the shell connector's options", () => {
    const shell = (fields: string) => () =>
      parseAgentSpec('a.yaml', `name: a\nmodel: anthropic/x\nconnectors:\n  shell: ${fields}\n`);
    expect(shell('{ sandbox: bubblewrap }')).toThrow(
      /^a\.yaml: connectors\.shell\.sandbox: "bubblewrap" is not allowed \(use one of: auto, required, off\)$/,
    );
    expect(shell('{ network: "yes" }')).toThrow(
      /^a\.yaml: connectors\.shell\.network: expected boolean, got "yes"$/,
    );
    expect(shell('{ paths: [{ path: ./x, writeable: true }] }')).toThrow(
      /^a\.yaml: connectors\.shell\.paths\.0: unknown field "writeable"$/,
    );
    expect(shell('{ timeout: soon }')).toThrow(
      /^a\.yaml: connectors\.shell\.timeout: "soon" is not a duration \(write e\.g\. 30s, 5m, or a number of seconds\)$/,
    );
  });

  it('reads tags, repeats dropped, and says in one line what is wrong with one', () => {
    const spec = (tags: string) =>
      parseAgentSpec('a.yaml', `name: a\nmodel: anthropic/x\ntags: ${tags}\n`);
    expect(spec('[team=search, good, team=search, "dataset:v2/a_b.c-d"]').tags).toEqual([
      'team=search',
      'good',
      'dataset:v2/a_b.c-d',
    ]);
    expect(spec('[]').tags).toBeUndefined();
    expect(() => spec('[ok, "two words"]')).toThrow(
      /^a\.yaml: tags\.1: "two words" has " " \(a tag is 1 to 64 of A-Z a-z 0-9 _ \. : \/ = - \(key=value or a name\)\)$/,
    );
    expect(() => spec(`[${'x'.repeat(65)}]`)).toThrow(
      /^a\.yaml: tags\.0: "x+" is 65 characters \(at most 64\)$/,
    );
    expect(() => spec(`[${Array.from({ length: 33 }, (_, i) => `t${i}`).join(', ')}]`)).toThrow(
      /^a\.yaml: tags: a run has at most 32 tags$/,
    );
    expect(() => spec('team=search')).toThrow(/^a\.yaml: tags: expected array, got "team=search"$/);
  });
});
