import { type FrameworkName, frameworks } from '../frameworks/catalog.ts';
import type { Results } from '../results.ts';
import { workloadNames, workloads } from '../workloads.ts';
import { ms } from './format.ts';

const colors: Record<FrameworkName, string> = {
  raw: '#9ca3af',
  agentd: '#2563eb',
  'agentd-stream': '#60a5fa',
  langgraph: '#16a34a',
  mastra: '#d97706',
  'mastra-generate': '#fbbf24',
  'openai-agents': '#7c3aed',
  'openai-agents-whole': '#a78bfa',
  'ai-sdk': '#db2777',
  'ai-sdk-generate': '#f472b6',
};

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The README's chart: warm framework overhead per run (p50) for each workload, one panel per
 * workload with its own scale, a bar per framework; the caption names date, machine,
 * versions and repetitions.
 */
export function overheadChart(results: Results): string {
  const names = results.frameworks.filter((n) => n !== 'raw' && results.peers?.summary[n]);
  const panelWidth = 240;
  const gap = 20;
  const labelWidth = 145;
  const barHeight = 22;
  const top = 70;
  const panelHeight = names.length * (barHeight + 8);
  const width = labelWidth + workloadNames.length * (panelWidth + gap) + 10;
  const height = top + panelHeight + 100;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  parts.push(
    `<text x="10" y="22" font-size="15" font-weight="600">Framework overhead per agent run, warm, median (ms, lower is better; the fake model's own time subtracted)</text>`,
  );
  const { machine } = results;
  parts.push(
    `<text x="10" y="42" fill="#4b5563">${xml(`${results.date.slice(0, 10)} · ${machine.cpu}, ${machine.cores} cores · Node ${machine.node} · ${results.plan.warm.rounds} rounds after ${results.peers?.warmupRuns ?? '?'} warm-up runs`)}</text>`,
  );
  names.forEach((name, i) => {
    const y = top + i * (barHeight + 8) + barHeight / 2 + 4;
    parts.push(
      `<text x="${labelWidth - 8}" y="${y}" text-anchor="end" font-weight="${name === 'agentd' ? 700 : 400}">${xml(frameworks[name].label)}</text>`,
    );
  });
  workloadNames.forEach((w, p) => {
    const x0 = labelWidth + p * (panelWidth + gap);
    parts.push(
      `<text x="${x0}" y="${top - 10}" font-weight="600">${xml(`(${w}) ${workloads[w].title}`)}</text>`,
    );
    const values = names.map(
      (n) => results.peers?.summary[n]?.workloads[w]?.warm?.overheadP50 ?? Number.NaN,
    );
    const max = Math.max(...values.filter(Number.isFinite), 0.001);
    parts.push(
      `<line x1="${x0}" y1="${top - 4}" x2="${x0}" y2="${top + panelHeight}" stroke="#d1d5db"/>`,
    );
    names.forEach((name, i) => {
      const value = values[i]!;
      const y = top + i * (barHeight + 8);
      const w2 = Number.isFinite(value)
        ? Math.max(1, (Math.max(value, 0) / max) * (panelWidth - 60))
        : 0;
      parts.push(
        `<rect x="${x0}" y="${y}" width="${w2.toFixed(1)}" height="${barHeight}" fill="${colors[name]}" rx="2"/>`,
      );
      parts.push(
        `<text x="${(x0 + w2 + 4).toFixed(1)}" y="${y + barHeight / 2 + 4}" fill="#111827">${ms(value)}</text>`,
      );
    });
  });
  const versions = Object.entries(results.versions).map(([k, v]) => `${k} ${v}`);
  const lines: string[] = [];
  for (let i = 0; i < versions.length; i += 5) lines.push(versions.slice(i, i + 5).join(' · '));
  lines.push(
    `Runs per round: ${workloadNames.map((w) => `${w} ${results.plan.warm.runs[w as 'a']}`).join(', ')}; same fake OpenAI-compatible model (streaming, no added latency) for every framework; every run checked.`,
  );
  lines.forEach((line, i) => {
    parts.push(
      `<text x="10" y="${top + panelHeight + 28 + i * 17}" fill="#4b5563" font-size="11">${xml(line)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
