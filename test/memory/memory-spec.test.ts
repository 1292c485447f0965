import { describe, expect, it } from 'vitest';
import { parseAgentSpec } from '../../src/definition/agent-spec.ts';

const base = 'name: a\nmodel: openai/gpt-5.1\n';

describe('memory: in agent specs', () => {
  it('reads strategies, extraction, recall and session settings, with defaults', () => {
    const spec = parseAgentSpec(
      '/agents/a.yaml',
      `${base}memory:
  team: platform
  strategies:
    preferences: true
    facts:
      namespace: /team/{team}/facts
  extraction: { model: scripted/x, script: ./x.yaml }
  recall: { max_tokens: 300, limit: 4, max_age: 30d, untrusted: false }
  session: { max_tokens: 1000 }
`,
    );
    expect(spec.memory).toEqual({
      team: 'platform',
      strategies: { preferences: '/actor/{actorId}/preferences', facts: '/team/{team}/facts' },
      extraction: { enabled: true, model: 'scripted/x', script: '/agents/x.yaml' },
      recall: {
        enabled: true,
        maxTokens: 300,
        limit: 4,
        maxAgeMs: 30 * 86_400_000,
        untrusted: false,
        namespaces: ['/actor/{actorId}', '/agent/{agent}', '/team/{team}'],
      },
      session: { maxTokens: 1000 },
    });
    const defaults = parseAgentSpec('/agents/b.yaml', `${base}memory: {}\n`).memory;
    expect(Object.keys(defaults!.strategies)).toEqual([
      'preferences',
      'facts',
      'summaries',
      'episodes',
    ]);
    expect(defaults!.recall).toMatchObject({ maxTokens: 800, limit: 8, untrusted: true });
  });

  it('a bad memory section is one line naming the field, the value and what to write', () => {
    const bad = (memory: string) => {
      try {
        parseAgentSpec('/agents/a.yaml', `${base}memory:\n${memory}`);
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    };
    expect(bad('  strategies: [facts, opinions]\n')).toBe(
      '/agents/a.yaml: memory.strategies.1: "opinions" is not allowed (use one of: preferences, facts, summaries, episodes)',
    );
    expect(bad('  strategies: { facts: { namespace: "/agent/{agentName}/facts" } }\n')).toBe(
      '/agents/a.yaml: memory.strategies.facts.namespace: unknown placeholder {agentName} in "/agent/{agentName}/facts" (use {actorId}, {agent}, {team}, {sessionId})',
    );
    expect(bad('  strategies: { facts: { namespace: "facts/{agent}" } }\n')).toMatch(
      /^\/agents\/a\.yaml: memory\.strategies\.facts\.namespace: "facts\/\{agent\}" is not a namespace \(write \/actor\/<id>\/\.\.\., \/agent\/<name>\/\.\.\. or \/team\/<name>\/\.\.\.\)$/,
    );
    expect(bad('  recall: { namespaces: ["/team/{team}"] }\n')).toBe(
      '/agents/a.yaml: memory: "/team/{team}" uses {team}, but memory.team is not set (set memory.team: <name>)',
    );
    expect(bad('  extraction: { model: scripted/x }\n')).toBe(
      '/agents/a.yaml: memory.extraction.script: is required when memory.extraction.model is "scripted/x" (the scripted extractions to replay)',
    );
    expect(bad('  extraction: { model: antropic/claude }\n')).toBe(
      '/agents/a.yaml: memory.extraction.model: unknown provider "antropic" (known: anthropic, openai, openai-compatible, ollama, local, scripted)',
    );
    expect(bad('  recall: { max_age: soon }\n')).toBe(
      '/agents/a.yaml: memory.recall.max_age: "soon" is not a duration (write e.g. 30d, 12h, or a number of seconds)',
    );
    expect(bad('  remember: everything\n')).toBe(
      '/agents/a.yaml: memory: unknown field "remember"',
    );
  });
});
