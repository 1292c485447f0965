/**
 * Renders a trace exported with `agentd runs trace <id> -o trace.json` (OTLP/JSON) as a span
 * tree with a timeline, the way trace viewers show one, and screenshots it with Debian's
 * chromium: `node scripts/trace-screenshot.ts trace.json docs/observability-trace.png`.
 * (No trace viewer can be installed on the machines agentd is built on.)
 */
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}

interface OtlpSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: { key: string; value: OtlpValue }[];
  links?: { spanId: string }[];
  status?: { code?: number };
}

function valueText(value: OtlpValue): string {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return String(value.intValue);
  if (value.doubleValue !== undefined) return String(value.doubleValue);
  if (value.boolValue !== undefined) return String(value.boolValue);
  return (value.arrayValue?.values ?? []).map(valueText).join(', ');
}

const escape = (text: string) =>
  text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The attributes worth a glance in the tree, per kind of span. */
const shown = [
  'gen_ai.usage.input_tokens',
  'gen_ai.usage.output_tokens',
  'gen_ai.response.finish_reasons',
  'agentd.policy.decision',
  'agentd.policy.principal',
  'agentd.approval.answer',
  'error.type',
  'agentd.run.status',
];

export function traceHtml(json: string, title: string): string {
  const request = JSON.parse(json) as {
    resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
  };
  const spans = request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
  const ms = (nanos: string) => Number(BigInt(nanos) / 1000n) / 1000;
  const start = Math.min(...spans.map((s) => ms(s.startTimeUnixNano)));
  const end = Math.max(...spans.map((s) => ms(s.endTimeUnixNano)));
  const total = Math.max(1, end - start);
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, OtlpSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  for (const list of children.values()) {
    list.sort((a, b) => ms(a.startTimeUnixNano) - ms(b.startTimeUnixNano));
  }
  const rows: string[] = [];
  const walk = (parent: string, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      const attrs = Object.fromEntries(
        (span.attributes ?? []).map((a) => [a.key, valueText(a.value)]),
      );
      const op = attrs['gen_ai.operation.name'] ?? (span.name.startsWith('agentd.') ? 'agentd' : 'other');
      const left = ((ms(span.startTimeUnixNano) - start) / total) * 100;
      const width = Math.max(0.4, ((ms(span.endTimeUnixNano) - ms(span.startTimeUnixNano)) / total) * 100);
      const took = ms(span.endTimeUnixNano) - ms(span.startTimeUnixNano);
      const notes = shown
        .filter((key) => attrs[key] !== undefined)
        .map((key) => `${key.replace(/^(gen_ai|agentd)\./, '')}=${attrs[key]}`);
      if (span.links?.length) notes.push('linked to the segment before');
      rows.push(
        `<tr class="${span.status?.code === 2 ? 'error' : ''}"><td class="name" style="padding-left:${8 + depth * 18}px"><span class="op ${escape(op)}">${escape(op)}</span>${escape(span.name)}<div class="notes">${escape(notes.join(' · '))}</div></td><td class="bar"><div class="track"><div class="span ${escape(op)}" style="left:${left}%;width:${width}%"></div></div></td><td class="ms">${took.toFixed(took < 10 ? 1 : 0)} ms</td></tr>`,
      );
      walk(span.spanId, depth + 1);
    }
  };
  walk('', 0);
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body { font: 13px/1.35 system-ui, sans-serif; margin: 16px; color: #1d2330; background: #fff; }
h1 { font-size: 16px; margin: 0 0 4px; } p { margin: 0 0 12px; color: #5a6275; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
td { border-bottom: 1px solid #e6e9ef; padding: 4px 8px; vertical-align: top; }
td.name { width: 46%; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
td.ms { width: 70px; text-align: right; color: #5a6275; font-variant-numeric: tabular-nums; }
.notes { color: #6b7386; font-size: 11px; overflow: hidden; text-overflow: ellipsis; }
.track { position: relative; height: 14px; margin-top: 3px; background: #f4f6f9; border-radius: 3px; }
.span { position: absolute; top: 0; height: 14px; border-radius: 3px; background: #8a94a8; }
.op { display: inline-block; min-width: 78px; margin-right: 6px; font-size: 11px; color: #fff; border-radius: 3px; padding: 0 4px; text-align: center; background: #8a94a8; }
.invoke_agent { background: #3b6fd8; } .chat { background: #2e9d6a; } .execute_tool { background: #d98b1f; } .agentd { background: #8c55c8; }
tr.error .name { color: #b3261e; } tr.error .span { outline: 2px solid #b3261e; }
</style></head><body><h1>${escape(title)}</h1><p>${spans.length} spans, ${total.toFixed(0)} ms, rendered from the OTLP/JSON that <code>agentd runs trace -o</code> wrote</p><table>${rows.join('')}</table></body></html>`;
}

if (import.meta.main) {
  const [input, output, title] = process.argv.slice(2);
  if (!input || !output) {
    process.stderr.write('usage: node scripts/trace-screenshot.ts trace.json out.png [title]\n');
    process.exit(2);
  }
  const html = traceHtml(readFileSync(input, 'utf8'), title ?? 'agentd trace');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 400 }, deviceScaleFactor: 1 });
    await page.setContent(html);
    await page.screenshot({ path: output, fullPage: true });
  } finally {
    await browser.close();
  }
  process.stderr.write(`wrote ${output}\n`);
}
