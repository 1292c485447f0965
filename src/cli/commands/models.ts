import { loadConfig } from '../../config/config.ts';
import { catalog } from '../../models/catalog.ts';
import { termsFor } from '../../models/terms.ts';
import { formatInt, table } from '../format.ts';

/** `agentd models`: the catalog, with each model's terms for training on its outputs. */
export function modelsCommand(options: { json?: boolean; provider?: string }): number {
  const config = loadConfig();
  const entries = catalog.filter((e) => !options.provider || e.provider === options.provider);
  const termsOf = (model: string) => termsFor(model, { config });
  if (options.json) {
    for (const entry of entries) {
      const { model: _model, ...terms } = termsOf(`${entry.provider}/${entry.id}`);
      process.stdout.write(`${JSON.stringify({ ...entry, terms })}\n`);
    }
    return 0;
  }
  const price = (n: number | undefined) => (n === undefined ? '-' : `$${n}`);
  const rows = entries.map((e) => {
    const terms = termsOf(`${e.provider}/${e.id}`);
    return [
      `${e.provider}/${e.id}`,
      formatInt(e.contextWindow),
      formatInt(e.maxOutputTokens),
      e.pricing
        ? `${price(e.pricing.input)} / ${price(e.pricing.output)} / ${price(e.pricing.cachedInput)}`
        : 'self-hosted',
      e.effort?.join(',') ?? '-',
      e.providerCompaction ? 'yes' : '-',
      terms.distillable,
      `${terms.origin === 'config' ? terms.source : terms.origin} ${terms.asOf}`,
    ];
  });
  process.stdout.write(
    `${table(['MODEL', 'CONTEXT', 'MAX OUT', 'USD/MTOK IN / OUT / CACHED', 'EFFORT', 'COMPACTION', 'DISTILLABLE', 'TERMS FROM'], rows)}\n`,
  );
  const own = Object.entries(config.modelTerms ?? {}).filter(
    ([key]) => !entries.some((e) => `${e.provider}/${e.id}` === key),
  );
  if (own.length) {
    process.stdout.write(`\nTerms set in ${config.configPath} (model_terms):\n`);
    process.stdout.write(
      `${table(
        ['MODEL', 'DISTILLABLE', 'SOURCE', 'AS OF'],
        own.map(([key, t]) => [key, t.distillable, t.source, t.as_of]),
      )}\n`,
    );
  }
  process.stdout.write(
    '\nDISTILLABLE: whether the terms allow training other models on its outputs (yes, no, unknown); model_terms in config.yaml records your own contract. Models not listed still run (openai-compatible takes any id), without a price or terms. `agentd models --json` has the sources and notes.\n',
  );
  return 0;
}
