import type { EvalResult } from '../result.ts';

function fixed(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : n.toFixed(2);
}

function usd(n: number | null): string {
  if (n === null) return 'cost unknown';
  return n === 0 ? '$0' : n < 0.01 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`;
}

function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A plain text table: columns padded to their widest cell. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * The result for a terminal: a row per case with its score, verdict and each evaluator's
 * mean; then each evaluator's mean and pass rate; then why each case that did not pass did
 * not (a line per score under its threshold or in error); then the suite's score.
 */
export function terminalReport(result: EvalResult): string {
  const names = result.evaluators.map((e) => e.name);
  const rows = result.cases.map((c) => [
    c.id,
    fixed(c.score),
    c.status,
    ...names.map((n) => fixed(c.evaluators[n]?.mean)),
  ]);
  const parts = [textTable(['case', 'score', 'status', ...names], rows), ''];
  const evaluatorRows = result.evaluators.map((e) => {
    const s = result.summary.byEvaluator[e.name];
    return [
      e.name,
      e.level,
      String(e.threshold),
      fixed(s?.mean),
      s ? `${Math.round(s.passRate * 100)}%` : '-',
      String(s?.errors ?? 0),
    ];
  });
  parts.push(
    textTable(['evaluator', 'level', 'threshold', 'mean', 'passed', 'errors'], evaluatorRows),
    '',
  );
  const why: string[] = [];
  for (const c of result.cases) {
    if (c.status === 'passed' || c.status === 'skipped') continue;
    for (const t of c.trials) {
      const trial = c.trials.length > 1 ? ` (trial ${t.trial})` : '';
      if (t.error) why.push(`${c.id}${trial}: ${clip(t.error, 200)}`);
      for (const s of t.scores) {
        if (s.pass) continue;
        why.push(
          `${c.id}${trial}: ${s.evaluator} ${s.error ? 'error' : `${s.score.toFixed(2)} < ${s.threshold}`}: ${clip(s.explanation, 200)}`,
        );
      }
    }
  }
  if (why.length)
    parts.push(
      ...why.slice(0, 50),
      ...(why.length > 50 ? [`... and ${why.length - 50} more (see the HTML report)`] : []),
      '',
    );
  const s = result.summary;
  parts.push(
    `suite score ${fixed(s.score)} · ${s.cases} case${s.cases === 1 ? '' : 's'}: ${s.passed} passed, ${s.failed} failed, ${s.errors} error${s.errors === 1 ? '' : 's'}${s.skipped ? `, ${s.skipped} skipped` : ''} · agents ${usd(s.costUsd)}, judge ${usd(s.judgeCostUsd)} · ${(result.durationMs / 1000).toFixed(1)} s`,
  );
  return `${parts.join('\n')}\n`;
}
