import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Token } from 'node-llama-cpp';
import { loadConfig } from '../../src/config/config.ts';
import { parseAgentSpec } from '../../src/definition/agent-spec.ts';
import { unloadAll } from '../../src/models/local/llama-runtime.ts';
import type { LocalModel } from '../../src/models/local/local-model.ts';
import { resolveModel } from '../../src/models/providers.ts';
import { median } from '../stats.ts';

const fixture = fileURLToPath(
  new URL('../../test/fixtures/models/tiny-random-llama.gguf', import.meta.url),
);

export interface LocalSide {
  /** Median time to first token, ms. */
  ttftMs: number;
  /** Median generated tokens per second (first token to last). */
  tokensPerSecond: number;
}

export interface LocalResults {
  model: string;
  tokens: number;
  rounds: number;
  direct: LocalSide;
  agentd: LocalSide;
  /** agentd's tokens/s against direct's: 1 is no overhead. */
  throughputRatio: number;
  /** Peak RSS over the loaded model's baseline, MiB, with 1 and 4 generations at once. */
  rssMiB: { one: number; four: number };
}

/**
 * The tiny GGUF through agentd's local provider (`LocalModel.stream`: prompt from the chat
 * template, sequence lease, detokenizing, stream parts) against node-llama-cpp called directly
 * on the same loaded model and sequence pool, in the same process, rounds alternating. Each
 * round's prompt is new (its round number leads it), so neither side reuses a cached prefix.
 */
export async function runLocalBench(options: {
  rounds: number;
  tokens: number;
  tmpDir: string;
  log: (line: string) => void;
}): Promise<LocalResults> {
  const spec = parseAgentSpec(
    join(options.tmpDir, 'agent.yaml'),
    `name: bench\nmodel: local/${fixture}\nprovider:\n  context_size: 1024\n  sequences: 4\n`,
  );
  const model = (await resolveModel(spec, loadConfig({ AGENTD_HOME: options.tmpDir })))
    .model as LocalModel;
  const loaded = model.loaded;
  const settings = { maxOutputTokens: options.tokens, temperature: 0 };
  const prompt = (round: number) => `${round}: tell me a long story.`;

  const agentdOnce = async (round: number) => {
    const start = performance.now();
    let first = 0;
    let last = 0;
    for await (const part of model.stream({
      instructions: '',
      messages: [{ role: 'user', text: prompt(round) }],
      tools: [],
      settings,
    })) {
      if (part.type === 'text-delta') {
        last = performance.now();
        if (!first) first = last;
      }
    }
    return { ttft: first - start, perSecond: ((options.tokens - 1) * 1000) / (last - first) };
  };
  const directOnce = async (round: number) => {
    const start = performance.now();
    const state = loaded.chatWrapper.generateContextState({
      chatHistory: [{ type: 'user', text: prompt(round) }],
    });
    const tokens = state.contextText.tokenize(loaded.model.tokenizer);
    const lease = await loaded.acquire();
    let first = 0;
    let last = 0;
    try {
      await lease.sequence.clearHistory();
      const out: Token[] = [];
      for await (const token of lease.sequence.evaluate(tokens, { temperature: 0 })) {
        out.push(token);
        loaded.model.detokenize([token], false, out);
        last = performance.now();
        if (!first) first = last;
        if (out.length >= options.tokens) break;
      }
    } finally {
      lease.release();
    }
    return { ttft: first - start, perSecond: ((options.tokens - 1) * 1000) / (last - first) };
  };

  options.log(`local: ${options.rounds} rounds of ${options.tokens} tokens, alternating`);
  await agentdOnce(-1);
  await directOnce(-2);
  const a: { ttft: number; perSecond: number }[] = [];
  const d: { ttft: number; perSecond: number }[] = [];
  for (let round = 0; round < options.rounds; round++) {
    if (round % 2 === 0) {
      a.push(await agentdOnce(round));
      d.push(await directOnce(round + 10_000));
    } else {
      d.push(await directOnce(round + 10_000));
      a.push(await agentdOnce(round));
    }
  }
  const side = (s: typeof a): LocalSide => ({
    ttftMs: median(s.map((x) => x.ttft)),
    tokensPerSecond: median(s.map((x) => x.perSecond)),
  });

  const peakOver = async (runs: number) => {
    const base = process.memoryUsage.rss();
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 5);
    await Promise.all(Array.from({ length: runs }, (_, i) => agentdOnce(50_000 + runs * 100 + i)));
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage.rss());
    return (peak - base) / 2 ** 20;
  };
  const one = await peakOver(1);
  const four = await peakOver(4);
  const results: LocalResults = {
    model: 'tiny-random-llama.gguf',
    tokens: options.tokens,
    rounds: options.rounds,
    direct: side(d),
    agentd: side(a),
    throughputRatio: side(a).tokensPerSecond / side(d).tokensPerSecond,
    rssMiB: { one, four },
  };
  await unloadAll();
  options.log(
    `local: agentd ${results.agentd.tokensPerSecond.toFixed(0)} tok/s, ttft ${results.agentd.ttftMs.toFixed(2)} ms; direct ${results.direct.tokensPerSecond.toFixed(0)} tok/s, ttft ${results.direct.ttftMs.toFixed(2)} ms; ratio ${results.throughputRatio.toFixed(3)}; RSS +${one.toFixed(1)} MiB (1 run), +${four.toFixed(1)} MiB (4 runs)`,
  );
  return results;
}
