import type { CatalogEntry } from './catalog.ts';

// Model facts as published by the providers, researched 2026-11-22 (stored docs up to ~2026-10).
// Prices are USD per million tokens at standard (non-batch, non-priority, global) rates.
// Every number below comes from the URL(s) in the entry's `source`; re-check them before billing.

const CLAUDE_PRICING = 'https://platform.claude.com/docs/en/about-claude/pricing';
const CLAUDE_EFFORT = 'https://platform.claude.com/docs/en/build-with-claude/effort';
const CLAUDE_COMPACTION =
  'https://platform.claude.com/docs/en/build-with-claude/compaction-threshold';
const ANTHROPIC_TERMS =
  'https://www.anthropic.com/legal/commercial-terms https://conductatlas.com/platform/anthropic/anthropic-commercial-terms/use-restrictions-and-competing-products/';
const ANTHROPIC_NOTE =
  "Anthropic's Commercial Terms forbid using the Services to build a competing product or service, including training competing AI models.";

const OPENAI_PRICING = 'https://developers.openai.com/api/docs/pricing';
const OPENAI_MODELS = 'https://developers.openai.com/api/docs/models';
const OPENAI_DEPRECATIONS =
  'https://developers.openai.com/api/docs/deprecations https://dev.to/max_bob/openai-api-deprecations-2026-2027-every-shutdown-date-and-recommended-replacement-gpt-4o-2ffm';
const OPENAI_TERMS =
  'https://openai.com/policies/terms-of-use/ https://ospo.co/blog/be-careful-with-openais-terms-of-use/';
const OPENAI_NOTE =
  "OpenAI's terms forbid using Output to develop models that compete with OpenAI; distilling into OpenAI's own models on its platform is the permitted route.";

const APACHE_NOTE =
  'Apache-2.0 weights: outputs may be used to train other models without restriction.';
const LLAMA_NOTE =
  'Llama Community License allows training on outputs, but a distributed model built with them must carry "Llama" at the start of its name (plus the AUP and 700M-MAU terms).';

// Open-weight models served by Ollama/vLLM share one window between prompt and output, so
// `maxOutputTokens` is the whole context window; lower it per deployment (num_ctx / max_model_len).

export const catalogEntries: readonly CatalogEntry[] = [
  // ---------------------------------------------------------------- Anthropic, current lineup
  {
    provider: 'anthropic',
    id: 'claude-opus-5-5',
    displayName: 'Claude Opus 5.5',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    pricing: { input: 4, output: 20, cachedInput: 0.2, cacheWrite: 5 },
    effort: ['low', 'medium', 'high', 'xhigh', 'max'], // default medium; thinking always on
    providerCompaction: true,
    distillation: 'prohibited',
    distillationNote: ANTHROPIC_NOTE,
    source: `https://platform.claude.com/docs/zh-CN/models/opus-5-5/overview https://platform.claude.com/docs/zh-CN/models/opus-5-5/whats-new-opus-5-5 ${CLAUDE_PRICING} ${CLAUDE_EFFORT} https://huggingface.co/datasets/JOHNISKING/claude-effort-cost ${CLAUDE_COMPACTION} ${ANTHROPIC_TERMS}`,
  },
  {
    provider: 'anthropic',
    id: 'claude-sonnet-5-5',
    displayName: 'Claude Sonnet 5.5',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    // Cache reads cut from $0.20 to $0.10 on 2026-10-07.
    pricing: { input: 2, output: 10, cachedInput: 0.1, cacheWrite: 2.5 },
    effort: ['low', 'medium', 'high', 'xhigh', 'max'],
    providerCompaction: true,
    distillation: 'prohibited',
    distillationNote: ANTHROPIC_NOTE,
    source: `https://platform.claude.com/docs/zh-CN/models/sonnet-5-5/overview ${CLAUDE_PRICING} https://github.com/kurofune/claudit/releases/tag/v1.9.2 https://apidog.com/ar/blog/claude-sonnet-5-5-vs-sonnet-5 ${CLAUDE_COMPACTION} ${ANTHROPIC_TERMS}`,
  },
  {
    provider: 'anthropic',
    id: 'claude-haiku-5-5',
    displayName: 'Claude Haiku 5.5',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    // Rates for prompts up to 100K tokens; a longer prompt bills the whole request at
    // $0.50 in / $2.50 out / $0.05 cache read / $0.625 5m cache write.
    pricing: { input: 0.1, output: 0.5, cachedInput: 0.01, cacheWrite: 0.125 },
    effort: ['low', 'medium', 'high', 'xhigh', 'max'], // default medium
    providerCompaction: true,
    distillation: 'prohibited',
    distillationNote: ANTHROPIC_NOTE,
    source: `https://platform.claude.com/docs/en/models/haiku-5-5/overview ${CLAUDE_PRICING} https://vercel.com/changelog/claude-haiku-5-5-now-available-on-ai-gateway ${CLAUDE_COMPACTION} ${ANTHROPIC_TERMS}`,
  },
  {
    provider: 'anthropic',
    id: 'claude-fable-5-1',
    displayName: 'Claude Fable 5.1',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    pricing: { input: 10, output: 50, cachedInput: 0.25, cacheWrite: 12.5 },
    // Levels as documented for Claude Fable 5; the 5.1 pages do not list them separately.
    effort: ['low', 'medium', 'high', 'xhigh', 'max'], // thinking always on
    providerCompaction: true,
    distillation: 'prohibited',
    distillationNote: ANTHROPIC_NOTE,
    source: `https://platform.claude.com/docs/zh-CN/models/fable-5-1/overview.md https://platform.claude.com/docs/models/fable-5-1/whats-new-fable-5-1 ${CLAUDE_PRICING} ${CLAUDE_EFFORT} ${CLAUDE_COMPACTION} ${ANTHROPIC_TERMS}`,
  },
  // ---------------------------------------------------------------- Anthropic, legacy (active)
  {
    provider: 'anthropic',
    id: 'claude-opus-5',
    displayName: 'Claude Opus 5',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    pricing: { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
    effort: ['low', 'medium', 'high', 'xhigh', 'max'],
    providerCompaction: true,
    distillation: 'prohibited',
    distillationNote: ANTHROPIC_NOTE,
    source: `https://platform.claude.com/docs/models/opus-5/overview https://platform.claude.com/docs/en/about-claude/models/whats-new-opus-5 ${CLAUDE_PRICING} ${CLAUDE_COMPACTION} ${ANTHROPIC_TERMS}`,
  },
  {
    provider: 'anthropic',
    id: 'claude-sonnet-5',
    displayName: 'Claude Sonnet 5',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    pricing: { input: 2, output: 10, cachedInput: 0.2, cacheWrite: 2.5 },
    effort: ['low', 'medium', 'high', 'xhigh', 'max'],
    providerCompaction: true,
    distillation: 'prohibited',
    distillationNote: ANTHROPIC_NOTE,
    source: `https://platform.claude.com/docs/zh-CN/models/sonnet-5/overview ${CLAUDE_PRICING} ${CLAUDE_EFFORT} ${CLAUDE_COMPACTION} ${ANTHROPIC_TERMS}`,
  },
  {
    provider: 'anthropic',
    id: 'claude-opus-4-8',
    displayName: 'Claude Opus 4.8',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    pricing: { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
    effort: ['low', 'medium', 'high', 'xhigh', 'max'],
    providerCompaction: true,
    distillation: 'prohibited',
    distillationNote: ANTHROPIC_NOTE,
    source: `https://platform.claude.com/docs/de/models/opus-4-8/overview.md https://platform.claude.com/docs/en/about-claude/models/whats-new-claude-4-8 ${CLAUDE_PRICING} ${CLAUDE_EFFORT} ${CLAUDE_COMPACTION} ${ANTHROPIC_TERMS}`,
  },
  {
    provider: 'anthropic',
    id: 'claude-opus-4-7',
    displayName: 'Claude Opus 4.7',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    pricing: { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
    effort: ['low', 'medium', 'high', 'xhigh', 'max'],
    providerCompaction: true,
    distillation: 'prohibited',
    distillationNote: ANTHROPIC_NOTE,
    source: `${CLAUDE_PRICING} https://docs.aws.amazon.com/bedrock/latest/userguide/model-card-anthropic-claude-opus-4-7.md ${CLAUDE_EFFORT} ${CLAUDE_COMPACTION} ${ANTHROPIC_TERMS}`,
  },
  {
    provider: 'anthropic',
    id: 'claude-sonnet-4-6',
    displayName: 'Claude Sonnet 4.6',
    contextWindow: 1_000_000,
    maxOutputTokens: 128_000,
    pricing: { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
    effort: ['low', 'medium', 'high', 'max'],
    providerCompaction: true,
    distillation: 'prohibited',
    distillationNote: ANTHROPIC_NOTE,
    source: `https://platform.claude.com/docs/zh-CN/models/sonnet-4-6/overview.md ${CLAUDE_PRICING} ${CLAUDE_EFFORT} ${CLAUDE_COMPACTION} ${ANTHROPIC_TERMS}`,
  },
  {
    provider: 'anthropic',
    id: 'claude-opus-4-5',
    aliases: ['claude-opus-4-5-20251101'],
    displayName: 'Claude Opus 4.5',
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    pricing: { input: 5, output: 25, cachedInput: 0.5, cacheWrite: 6.25 },
    effort: ['low', 'medium', 'high'],
    distillation: 'prohibited',
    distillationNote: ANTHROPIC_NOTE,
    source: `https://platform.claude.com/docs/pt-BR/models/opus-4-5/overview.md ${CLAUDE_PRICING} ${CLAUDE_EFFORT} ${ANTHROPIC_TERMS}`,
  },
  {
    // Deprecated: retires 2026-11-30 (replacement: Claude Sonnet 5.5).
    provider: 'anthropic',
    id: 'claude-sonnet-4-5',
    aliases: ['claude-sonnet-4-5-20250929'],
    displayName: 'Claude Sonnet 4.5',
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    pricing: { input: 3, output: 15, cachedInput: 0.3, cacheWrite: 3.75 },
    distillation: 'prohibited',
    distillationNote: ANTHROPIC_NOTE,
    source: `https://platform.claude.com/docs/zh-TW/models/sonnet-4-5/overview.md ${CLAUDE_PRICING} ${ANTHROPIC_TERMS}`,
  },
  {
    provider: 'anthropic',
    id: 'claude-haiku-4-5',
    aliases: ['claude-haiku-4-5-20251001'],
    displayName: 'Claude Haiku 4.5',
    contextWindow: 200_000,
    maxOutputTokens: 64_000,
    pricing: { input: 1, output: 5, cachedInput: 0.1, cacheWrite: 1.25 },
    distillation: 'prohibited',
    distillationNote: ANTHROPIC_NOTE,
    source: `https://platform.claude.com/docs/zh-CN/models/haiku-4-5/overview.md ${CLAUDE_PRICING} ${ANTHROPIC_TERMS}`,
  },

  // ---------------------------------------------------------------- OpenAI, GPT-6 family
  // Prompts over 272K input tokens bill the whole request at 2x input/cache and 1.5x output.
  // `cacheWrite` is OpenAI's listed 30-minute-retention cache-write price.
  {
    provider: 'openai',
    id: 'gpt-6-astra',
    displayName: 'GPT-6 Astra',
    contextWindow: 1_050_000,
    maxOutputTokens: 128_000,
    pricing: { input: 10, output: 50, cachedInput: 1, cacheWrite: 12.5 },
    effort: ['low', 'medium', 'high', 'xhigh', 'max'],
    distillation: 'restricted',
    distillationNote: OPENAI_NOTE,
    source: `${OPENAI_MODELS} https://developers.openai.com/api/docs/models/compare ${OPENAI_PRICING} ${OPENAI_TERMS}`,
  },
  {
    provider: 'openai',
    id: 'gpt-6.1-sol',
    displayName: 'GPT-6.1 Sol',
    contextWindow: 1_050_000,
    maxOutputTokens: 128_000,
    pricing: { input: 2, output: 10, cachedInput: 0.1, cacheWrite: 2.5 },
    effort: ['low', 'medium', 'high', 'xhigh', 'max'], // no none/minimal
    distillation: 'restricted',
    distillationNote: OPENAI_NOTE,
    source: `https://developers.openai.com/ko-KR/api/docs/models https://dev.to/hassann/how-to-use-gpt-61-sol-apl--45cg ${OPENAI_PRICING} ${OPENAI_TERMS}`,
  },
  {
    provider: 'openai',
    id: 'gpt-6.1-terra',
    displayName: 'GPT-6.1 Terra',
    contextWindow: 1_050_000,
    maxOutputTokens: 128_000,
    pricing: { input: 1, output: 5, cachedInput: 0.05, cacheWrite: 1.25 },
    effort: ['low', 'medium', 'high', 'xhigh', 'max'], // also accepts none; default medium
    distillation: 'restricted',
    distillationNote: OPENAI_NOTE,
    source: `https://developers.openai.com/zh-Hans/api/docs/models/gpt-6.1-terra ${OPENAI_PRICING} ${OPENAI_TERMS}`,
  },
  {
    provider: 'openai',
    id: 'gpt-6-luna',
    displayName: 'GPT-6 Luna',
    contextWindow: 1_050_000,
    maxOutputTokens: 128_000,
    pricing: { input: 0.1, output: 0.5, cachedInput: 0.01, cacheWrite: 0.125 },
    effort: ['low', 'medium', 'high', 'xhigh', 'max'], // also accepts none
    distillation: 'restricted',
    distillationNote: OPENAI_NOTE,
    source: `https://developers.openai.com/ko-KR/api/docs/models https://github.com/merefield/codexometer/releases/tag/v0.18.4 ${OPENAI_TERMS}`,
  },
  // ---------------------------------------------------------------- OpenAI, GPT-5 family
  {
    // Shuts down 2027-04-01.
    provider: 'openai',
    id: 'gpt-5.1',
    aliases: ['gpt-5.1-2025-11-13'],
    displayName: 'GPT-5.1',
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    pricing: { input: 1.25, output: 10, cachedInput: 0.125 },
    effort: ['low', 'medium', 'high'], // default none (no reasoning); minimal is rejected
    distillation: 'restricted',
    distillationNote: OPENAI_NOTE,
    source: `https://developers.openai.com/zh-Hans/api/docs/models/gpt-5.1 https://github.com/openai/openai-agents-python/issues/2089 ${OPENAI_DEPRECATIONS} ${OPENAI_TERMS}`,
  },
  {
    // Deprecated: shuts down 2026-12-11.
    provider: 'openai',
    id: 'gpt-5',
    aliases: ['gpt-5-2025-08-07'],
    displayName: 'GPT-5',
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    pricing: { input: 1.25, output: 10, cachedInput: 0.125 },
    effort: ['minimal', 'low', 'medium', 'high'],
    distillation: 'restricted',
    distillationNote: OPENAI_NOTE,
    source: `https://developers.openai.com/zh-Hans/api/docs/models/gpt-5.1 https://vercel.com/ai-gateway/models/gpt-5-fast.md https://docs.rs/crate/adk-model/latest/source/src/openai/pricing.rs https://learn.microsoft.com/en-us/javascript/api/@azure/ai-projects/reasoningeffort ${OPENAI_DEPRECATIONS} ${OPENAI_TERMS}`,
  },
  {
    // Deprecated: shuts down 2026-12-11.
    provider: 'openai',
    id: 'gpt-5-mini',
    aliases: ['gpt-5-mini-2025-08-07'],
    displayName: 'GPT-5 mini',
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    pricing: { input: 0.25, output: 2, cachedInput: 0.025 },
    effort: ['minimal', 'low', 'medium', 'high'],
    distillation: 'restricted',
    distillationNote: OPENAI_NOTE,
    source: `https://developers.openai.com/ko-KR/api/docs/models/gpt-5-mini https://qiita.com/FukuharaYohei/items/8143f4d51fc30624c39f ${OPENAI_DEPRECATIONS} ${OPENAI_TERMS}`,
  },
  {
    // Deprecated: shuts down 2026-12-11.
    provider: 'openai',
    id: 'gpt-5-nano',
    aliases: ['gpt-5-nano-2025-08-07'],
    displayName: 'GPT-5 nano',
    contextWindow: 400_000,
    maxOutputTokens: 128_000,
    pricing: { input: 0.05, output: 0.4, cachedInput: 0.005 },
    effort: ['minimal', 'low', 'medium', 'high'],
    distillation: 'restricted',
    distillationNote: OPENAI_NOTE,
    source: `https://developers.openai.com/api/docs/models/gpt-5-nano.md https://qiita.com/FukuharaYohei/items/8143f4d51fc30624c39f ${OPENAI_DEPRECATIONS} ${OPENAI_TERMS}`,
  },
  // ---------------------------------------------------------------- OpenAI, non-reasoning
  {
    // Deprecated: shuts down 2027-01-14 (replacement: gpt-6-luna).
    provider: 'openai',
    id: 'gpt-4.1',
    aliases: ['gpt-4.1-2025-04-14'],
    displayName: 'GPT-4.1',
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
    pricing: { input: 2, output: 8, cachedInput: 0.5 },
    distillation: 'restricted',
    distillationNote: OPENAI_NOTE,
    source: `https://vercel.com/ai-gateway/models/gpt-4.1/providers https://vercel.com/ai-gateway/models/gpt-4.1-fast.md ${OPENAI_DEPRECATIONS} ${OPENAI_TERMS}`,
  },
  {
    // Deprecated: shuts down 2027-01-14 (replacement: gpt-6-luna).
    provider: 'openai',
    id: 'gpt-4.1-mini',
    aliases: ['gpt-4.1-mini-2025-04-14'],
    displayName: 'GPT-4.1 mini',
    contextWindow: 1_047_576,
    maxOutputTokens: 32_768,
    pricing: { input: 0.4, output: 1.6, cachedInput: 0.1 },
    distillation: 'restricted',
    distillationNote: OPENAI_NOTE,
    source: `https://vercel.com/ai-gateway/models/gpt-4.1-mini-fast.md https://www.getmaxim.ai/bifrost/model-library/compare/azure/gpt-4.1-mini https://docs.rs/crate/adk-model/latest/source/src/openai/pricing.rs ${OPENAI_DEPRECATIONS} ${OPENAI_TERMS}`,
  },
  {
    // Deprecated: shuts down 2027-01-14 (replacement: gpt-6-luna).
    provider: 'openai',
    id: 'gpt-4o',
    aliases: ['gpt-4o-2024-08-06', 'gpt-4o-2024-11-20'],
    displayName: 'GPT-4o',
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
    pricing: { input: 2.5, output: 10, cachedInput: 1.25 },
    distillation: 'restricted',
    distillationNote: OPENAI_NOTE,
    source: `https://github.com/CommitBrief/commitbrief/wiki/Provider-OpenAI https://github.com/MicrosoftDocs/azure-ai-docs/pull/544/files ${OPENAI_DEPRECATIONS} ${OPENAI_TERMS}`,
  },
  {
    // Deprecated: shuts down 2027-01-14 (replacement: gpt-6-luna).
    provider: 'openai',
    id: 'gpt-4o-mini',
    aliases: ['gpt-4o-mini-2024-07-18'],
    displayName: 'GPT-4o mini',
    contextWindow: 128_000,
    maxOutputTokens: 16_384,
    pricing: { input: 0.15, output: 0.6, cachedInput: 0.075 },
    distillation: 'restricted',
    distillationNote: OPENAI_NOTE,
    source: `https://github.com/CommitBrief/commitbrief/wiki/Provider-OpenAI https://vercel.com/ai-gateway/models/gpt-4o-mini-fast.md ${OPENAI_DEPRECATIONS} ${OPENAI_TERMS}`,
  },

  // ---------------------------------------------------------------- Open-weight (self-hosted)
  {
    provider: 'openai-compatible',
    id: 'gpt-oss:20b',
    aliases: ['openai/gpt-oss-20b', 'gpt-oss-20b'],
    displayName: 'gpt-oss-20b',
    contextWindow: 131_072,
    maxOutputTokens: 131_072,
    effort: ['low', 'medium', 'high'],
    distillation: 'allowed',
    distillationNote: APACHE_NOTE,
    source:
      'https://huggingface.co/openai/gpt-oss-20b https://vercel.com/ai-gateway/models/gpt-oss-20b.md https://github.com/BerriAI/litellm/pull/15008',
  },
  {
    provider: 'openai-compatible',
    id: 'gpt-oss:120b',
    aliases: ['openai/gpt-oss-120b', 'gpt-oss-120b'],
    displayName: 'gpt-oss-120b',
    contextWindow: 131_072,
    maxOutputTokens: 131_072,
    effort: ['low', 'medium', 'high'],
    distillation: 'allowed',
    distillationNote: APACHE_NOTE,
    source:
      'https://huggingface.co/openai/gpt-oss-120b https://vercel.com/ai-gateway/models/gpt-oss-20b.md https://github.com/BerriAI/litellm/pull/15008',
  },
  {
    // Thinking is toggled (enable_thinking, /think, /no_think), not graded, so no effort levels.
    // Native window 32,768 (40,960 positions); YaRN extends it to 131,072 when configured.
    provider: 'openai-compatible',
    id: 'qwen3:8b',
    aliases: ['Qwen/Qwen3-8B'],
    displayName: 'Qwen3 8B',
    contextWindow: 40_960,
    maxOutputTokens: 40_960,
    distillation: 'allowed',
    distillationNote: APACHE_NOTE,
    source:
      'https://huggingface.co/Qwen/Qwen3-8B https://openrouter.ai/qwen/qwen3-8b/api https://inference.readthedocs.io/en/v1.9.0/models/builtin/llm/qwen3.html',
  },
  {
    provider: 'openai-compatible',
    id: 'llama3.1:8b',
    aliases: ['meta-llama/Llama-3.1-8B-Instruct'],
    displayName: 'Llama 3.1 8B Instruct',
    contextWindow: 131_072,
    maxOutputTokens: 131_072,
    distillation: 'restricted',
    distillationNote: LLAMA_NOTE,
    source:
      'https://huggingface.co/meta-llama/Llama-3.1-8B-Instruct https://llama.meta.com/llama3_1/license/ https://inference.readthedocs.io/en/v1.1.0/models/builtin/llm/llama-3.1.html',
  },
  {
    provider: 'openai-compatible',
    id: 'llama3.3:70b',
    aliases: ['meta-llama/Llama-3.3-70B-Instruct'],
    displayName: 'Llama 3.3 70B Instruct',
    contextWindow: 131_072,
    maxOutputTokens: 131_072,
    distillation: 'restricted',
    distillationNote: LLAMA_NOTE,
    source:
      'https://huggingface.co/meta-llama/Llama-3.3-70B-Instruct https://www.llama.com/llama3_3/license/ https://github.com/scaleway/docs-content/pull/5176.patch',
  },
  {
    provider: 'openai-compatible',
    id: 'devstral-small-2:24b',
    aliases: ['devstral-small-2', 'mistralai/Devstral-Small-2-24B-Instruct-2512'],
    displayName: 'Devstral Small 2 (24B)',
    contextWindow: 262_144,
    maxOutputTokens: 262_144,
    distillation: 'allowed',
    distillationNote: APACHE_NOTE,
    source:
      'https://unsloth.ai/docs/jp/moderu/tutorials/devstral-2.md https://developer.mittwald.de/docs/v2/platform/aihosting/models/devstral-small-2-24b-instruct-2512/ https://ollama.com/search?q=Devstral+Small+2+24B',
  },
  {
    // Ollama's deepseek-r1:8b is DeepSeek-R1-0528 distilled into Qwen3 8B.
    provider: 'openai-compatible',
    id: 'deepseek-r1:8b',
    aliases: ['deepseek-ai/DeepSeek-R1-0528-Qwen3-8B'],
    displayName: 'DeepSeek-R1-0528 Qwen3 8B',
    contextWindow: 131_072,
    maxOutputTokens: 131_072,
    distillation: 'allowed',
    distillationNote:
      'MIT license; DeepSeek states the R1 series allows derivative works including distillation for training other LLMs.',
    source:
      'https://huggingface.co/lmstudio-community/DeepSeek-R1-0528-Qwen3-8B-GGUF https://huggingface.co/deepseek-ai/DeepSeek-R1-Distill-Qwen-32B https://ollama.com/library/deepseek-r1',
  },
];
