import type { Framework } from './framework.ts';

export type FrameworkName =
  | 'raw'
  | 'agentd'
  | 'agentd-stream'
  | 'langgraph'
  | 'mastra'
  | 'mastra-generate'
  | 'openai-agents'
  | 'openai-agents-whole'
  | 'ai-sdk'
  | 'ai-sdk-generate';

export interface FrameworkInfo {
  name: FrameworkName;
  label: string;
  /** npm packages whose versions the results name (agentd: the root package). */
  packages: readonly string[];
  /** How it is configured, as the results and the README state it. */
  configuration: string;
  /** Loaded on demand, so a cold process pays for this framework's imports only. */
  load: () => Promise<Framework>;
}

export const frameworks: Record<FrameworkName, FrameworkInfo> = {
  raw: {
    name: 'raw',
    label: 'raw fetch loop',
    packages: [],
    configuration:
      "The baseline, not a framework: a minimal agent loop over fetch (SSE parsed by hand, tool run inline). Its time is the fake model's own time, subtracted from every framework's.",
    load: async () => (await import('./raw-fetch.ts')).rawFetch,
  },
  agentd: {
    name: 'agentd',
    label: 'agentd',
    packages: ['agentd'],
    configuration:
      '`runAgent` with `createModel({ provider: "openai-compatible" })` and a `defineTool` tool, no live listener (as the HTTP API, evals and embedders run it: whole, unstreamed model responses); the durable run log on: one `SqliteStore` per process (WAL, `durability: "process"`, as the CLI runs), every event committed before the next step.',
    load: async () => (await import('./agentd.ts')).agentd,
  },
  'agentd-stream': {
    name: 'agentd-stream',
    label: 'agentd (streaming)',
    packages: ['agentd'],
    configuration:
      'As agentd, with an `onLive` listener (as a terminal or a voice session runs it): the model streams, each text delta reaches the listener.',
    load: async () => (await import('./agentd.ts')).agentdStream,
  },
  langgraph: {
    name: 'langgraph',
    label: 'LangGraph.js',
    packages: ['@langchain/langgraph', '@langchain/core', '@langchain/openai'],
    configuration:
      "`createReactAgent` from `@langchain/langgraph/prebuilt` (deprecated in favour of `langchain`'s `createAgent`, which is not part of LangGraph.js) over `new ChatOpenAI({ model, apiKey, configuration: { baseURL } })`, a `tool()` from `@langchain/core/tools`; run with `agent.stream(input, { streamMode: \"messages\", recursionLimit })`, LangGraph's documented way to stream the model's tokens, which makes ChatOpenAI stream (ChatOpenAI's `streaming: true` with `invoke` instead estimates tokens with tiktoken, whose encodings it downloads at run time). No checkpointer (the prebuilt's default); LangSmith tracing off (its default).",
    load: async () => (await import('./langgraph.ts')).langgraph,
  },
  mastra: {
    name: 'mastra',
    label: 'Mastra',
    packages: ['@mastra/core'],
    configuration:
      "`new Agent({ model: { id, url, apiKey } })`, Mastra's documented config for an OpenAI-compatible endpoint (an AI SDK `openai-compatible` chat model inside), a `createTool` tool; run with `agent.stream(task, { maxSteps })` and `await output.text` (`generate` asks the model for an unstreamed answer). No Mastra instance, memory or storage; observability off (its default).",
    load: async () => (await import('./mastra.ts')).mastra,
  },
  'mastra-generate': {
    name: 'mastra-generate',
    label: 'Mastra (generate)',
    packages: ['@mastra/core'],
    configuration:
      'As Mastra, run with `agent.generate(task, { maxSteps })`: unstreamed model calls.',
    load: async () => (await import('./mastra.ts')).mastraGenerate,
  },
  'openai-agents': {
    name: 'openai-agents',
    label: 'OpenAI Agents SDK',
    packages: ['@openai/agents', 'openai'],
    configuration:
      '`new Agent({ model: new OpenAIChatCompletionsModel(new OpenAI({ baseURL }), id) })`, a `tool()` with a zod schema, `run(agent, task, { stream: true, maxTurns })` and `await result.completed`; tracing on (its default) with no OPENAI_API_KEY in the environment, so spans are made and batched but never exported over the network.',
    load: async () => (await import('./openai-agents.ts')).openaiAgents,
  },
  'openai-agents-whole': {
    name: 'openai-agents-whole',
    label: 'OpenAI Agents SDK (not streaming)',
    packages: ['@openai/agents', 'openai'],
    configuration:
      'As the OpenAI Agents SDK, run with `run(agent, task, { maxTurns })`, without `stream`: unstreamed model calls.',
    load: async () => (await import('./openai-agents.ts')).openaiAgentsWhole,
  },
  'ai-sdk': {
    name: 'ai-sdk',
    label: 'Vercel AI SDK',
    packages: ['ai', '@ai-sdk/openai-compatible'],
    configuration:
      '`new ToolLoopAgent({ model: createOpenAICompatible({ baseURL, includeUsage: true }).chatModel(id), tools: { lookup: tool(...) }, stopWhen: stepCountIs(n) })`, `agent.stream({ prompt })` and `await result.text`; telemetry off (its default).',
    load: async () => (await import('./ai-sdk.ts')).aiSdk,
  },
  'ai-sdk-generate': {
    name: 'ai-sdk-generate',
    label: 'Vercel AI SDK (generate)',
    packages: ['ai', '@ai-sdk/openai-compatible'],
    configuration:
      'As the Vercel AI SDK, run with `agent.generate({ prompt })` (`generateText` inside): unstreamed model calls.',
    load: async () => (await import('./ai-sdk.ts')).aiSdkGenerate,
  },
};

export const frameworkNames = Object.keys(frameworks) as FrameworkName[];
export const peerNames: readonly FrameworkName[] = [
  'langgraph',
  'mastra',
  'mastra-generate',
  'openai-agents',
  'openai-agents-whole',
  'ai-sdk',
  'ai-sdk-generate',
];

export function isFrameworkName(value: string): value is FrameworkName {
  return Object.hasOwn(frameworks, value);
}
