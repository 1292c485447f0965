import { loadConfig } from '../../config/config.ts';
import { catalog } from '../../models/catalog.ts';
import { loadProviderTerms, refreshProviderTerms } from '../../models/provider-terms.ts';
import { termsFor } from '../../models/terms.ts';
import { formatInt, table } from '../format.ts';

/** `agentd models`: the catalog, with each model's terms for training on its outputs. */
export async function modelsCommand(options: {
  json?: boolean;
  provider?: string;
  refreshTerms?: string;
}): Promise<number> {
  const config = loadConfig();
  if (options.refreshTerms) {
    const apiKey =
      config.env.OPENAI_COMPATIBLE_API_KEY || config.providers['openai-compatible']?.api_key;
    const { yes, no, path } = await refreshProviderTerms({
      baseUrl: options.refreshTerms,
      home: config.home,
      ...(apiKey ? { apiKey } : {}),
    });
    process.stdout.write(
      `${options.refreshTerms}: ${yes} model${yes === 1 ? '' : 's'} distillable, ${no} not, kept in ${path} as openai-compatible/<id> (config.yaml model_terms still wins)\n`,
    );
    return 0;
  }
  const entries = catalog.filter((e) => !options.provider || e.provider === options.provider);
  const fromProvider = loadProviderTerms(config.home);
  const termsOf = (model: string) => termsFor(model, { config, fromProvider });
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
  if (fromProvider.size && (!options.provider || options.provider === 'openai-compatible')) {
    const listed = [...fromProvider.values()].filter(
      (t) => !entries.some((e) => `${e.provider}/${e.id}` === t.model),
    );
    process.stdout.write(
      `\nTerms read from providers' APIs (agentd models --refresh-terms), ${listed.length} models:\n`,
    );
    process.stdout.write(
      `${table(
        ['MODEL', 'DISTILLABLE', 'SOURCE', 'AS OF'],
        listed.slice(0, 50).map((t) => [t.model, termsOf(t.model).distillable, t.source, t.asOf]),
      )}\n`,
    );
    if (listed.length > 50)
      process.stdout.write(
        `… and ${listed.length - 50} more (all of them in ${config.home}/provider-terms.json)\n`,
      );
  }
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
