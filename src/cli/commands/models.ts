import { catalog } from '../../models/catalog.ts';
import { formatInt, table } from '../format.ts';

export function modelsCommand(options: { json?: boolean; provider?: string }): number {
  const entries = catalog.filter((e) => !options.provider || e.provider === options.provider);
  if (options.json) {
    for (const entry of entries) process.stdout.write(`${JSON.stringify(entry)}\n`);
    return 0;
  }
  const price = (n: number | undefined) => (n === undefined ? '-' : `$${n}`);
  const rows = entries.map((e) => [
    `${e.provider}/${e.id}`,
    formatInt(e.contextWindow),
    formatInt(e.maxOutputTokens),
    e.pricing
      ? `${price(e.pricing.input)} / ${price(e.pricing.output)} / ${price(e.pricing.cachedInput)}`
      : 'self-hosted',
    e.effort?.join(',') ?? '-',
    e.providerCompaction ? 'yes' : '-',
    e.distillation,
  ]);
  process.stdout.write(
    `${table(['MODEL', 'CONTEXT', 'MAX OUT', 'USD/MTOK IN / OUT / CACHED', 'EFFORT', 'COMPACTION', 'DISTILL'], rows)}\n`,
  );
  process.stdout.write(
    '\nModels not listed still run (openai-compatible takes any id), without a price. `agentd models --json` has sources and terms.\n',
  );
  return 0;
}
