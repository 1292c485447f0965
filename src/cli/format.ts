import { styleText } from 'node:util';
import type { RunStatus } from '../core/events.ts';
import type { Usage } from '../core/usage.ts';

type Style = Parameters<typeof styleText>[0];

/** Styles text for a stream, plain when it is not a terminal or NO_COLOR is set. */
export function paint(
  style: Style,
  text: string,
  stream: NodeJS.WriteStream = process.stderr,
): string {
  return styleText(style, text, { stream });
}

/** 1234567 → `1,234,567`. Not `toLocaleString`: its first call loads ICU data (~15 ms). */
export function formatInt(n: number): string {
  const [whole = '', fraction] = String(n).split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return 'cost unknown';
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(2)}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

export function formatTokens(usage: Usage | undefined): string {
  if (!usage) return '-';
  const cached = usage.cachedInputTokens ? ` (${formatInt(usage.cachedInputTokens)} cached)` : '';
  return `${formatInt(usage.inputTokens)} in${cached} / ${formatInt(usage.outputTokens)} out`;
}

export function statusStyle(status: RunStatus): Style {
  switch (status) {
    case 'completed':
      return 'green';
    case 'running':
      return 'cyan';
    case 'cancelled':
    case 'budget_exceeded':
      return 'yellow';
    case 'failed':
      return 'red';
    case 'needs_attention':
    case 'suspended':
    case 'awaiting_approval':
      return 'magenta';
  }
}

/** A note a person should see before a run starts, on stderr. */
export function printNotice(notice: string): void {
  process.stderr.write(`${paint('yellow', 'note:')} ${notice}\n`);
}

/** One line, at most `max` characters. */
export function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A plain text table: columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
