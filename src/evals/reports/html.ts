import type { CaseResult, EvalResult, TrialResult } from '../result.ts';
import type { Assertion, ExpectedCall, Score } from '../types.ts';

/** Text as HTML: every character that could open markup or end an attribute, escaped. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const h = escapeHtml;

function fixed(n: number | null | undefined, digits = 2): string {
  return n === null || n === undefined ? '–' : n.toFixed(digits);
}

function usd(n: number | null): string {
  if (n === null) return 'cost unknown';
  return n === 0 ? '$0' : n < 0.01 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`;
}

function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function bar(value: number): string {
  const pct = Math.round(Math.max(0, Math.min(1, value)) * 100);
  return `<span class="bar"><span style="width:${pct}%"></span></span>`;
}

const marks: Record<CaseResult['status'], string> = {
  passed: '✓',
  failed: '✗',
  error: '!',
  skipped: '–',
};

function json(value: unknown): string {
  return h(JSON.stringify(value, null, 2));
}

function describeAssertion(a: Assertion): string {
  if (typeof a === 'string') return a;
  const [key, value] = Object.entries(a)[0]!;
  return `${key}: ${JSON.stringify(value)}`;
}

function expectedCalls(calls: readonly ExpectedCall[]): string {
  if (calls.length === 0) return '<p class="dim">no tool calls</p>';
  return `<ol class="calls">${calls
    .map(
      (c) =>
        `<li><code>${h(c.tool)}</code>${c.input ? ` <code class="dim">${h(JSON.stringify(c.input))}</code>` : ''}</li>`,
    )
    .join('')}</ol>`;
}

function scoreRows(scores: readonly Score[]): string {
  if (scores.length === 0) return '<p class="dim">no evaluator applied</p>';
  const rows = scores.map((s) => {
    const cls = s.error ? 'error' : s.pass ? 'pass' : 'fail';
    const judge = s.judge
      ? `<div class="dim">judge ${h(s.judge.model)}${s.judge.scripted ? ' (scripted)' : ''} · prompt ${h(s.judge.promptVersion)} · ${s.judge.calls} call${s.judge.calls === 1 ? '' : 's'}</div>`
      : '';
    return `<tr class="${cls}"><td><b>${h(s.evaluator)}</b><div class="dim">${h(s.kind)} · ${h(s.level)}</div></td><td class="num">${fixed(s.score)}</td><td>${s.error ? 'error' : s.pass ? 'pass' : 'fail'}<div class="dim">≥ ${s.threshold}</div></td><td>${h(s.explanation)}${judge}</td></tr>`;
  });
  return `<table class="scores"><thead><tr><th>evaluator</th><th>score</th><th>verdict</th><th>explanation</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function trajectory(trial: TrialResult): string {
  if (trial.trajectory.length === 0) return '<p class="dim">no model turns</p>';
  const turns = trial.trajectory.map((turn) => {
    const calls = turn.calls
      .map(
        (c) =>
          `<div class="call${c.isError ? ' error' : ''}"><div>→ <code>${h(c.name)}</code></div><pre>${json(c.input)}</pre>${
            c.output === undefined
              ? '<div class="dim">no result</div>'
              : `<div>← ${c.isError ? 'error' : 'result'}</div><pre>${h(c.output)}</pre>`
          }</div>`,
      )
      .join('');
    return `<li><div class="turn">turn ${turn.turn}</div>${turn.text ? `<pre class="said">${h(turn.text)}</pre>` : ''}${calls}</li>`;
  });
  return `<ol class="trajectory">${turns.join('')}</ol>`;
}

function trialSection(trial: TrialResult, many: boolean): string {
  const facts = [
    many ? `trial ${trial.trial}` : '',
    trial.runId ? `run <code>${h(trial.runId)}</code>` : '',
    trial.status ? `${h(trial.status)}${trial.reason ? ` (${h(trial.reason)})` : ''}` : '',
    `${trial.turns} turn${trial.turns === 1 ? '' : 's'}`,
    `${(trial.usage.inputTokens + trial.usage.outputTokens).toLocaleString('en-US')} tokens`,
    usd(trial.costUsd),
    seconds(trial.durationMs),
    trial.score === null ? '' : `score ${fixed(trial.score)}`,
  ].filter(Boolean);
  return `<div class="trial"><h4>${facts.join(' · ')}</h4>${
    trial.error ? `<p class="error-text">${h(trial.error)}</p>` : ''
  }${scoreRows(trial.scores)}<details${trial.trajectory.length <= 6 ? ' open' : ''}><summary>trajectory</summary>${trajectory(trial)}</details>${
    trial.answer !== undefined
      ? `<div class="label">final answer</div><pre class="answer">${h(trial.answer)}</pre>`
      : ''
  }</div>`;
}

function caseSection(c: CaseResult): string {
  const expected = [
    `<div class="label">input</div><pre>${h(c.input)}</pre>`,
    c.expectedResponse !== undefined
      ? `<div class="label">expected response</div><pre>${h(c.expectedResponse)}</pre>`
      : '',
    c.expectedTrajectory
      ? `<div class="label">expected trajectory</div>${expectedCalls(c.expectedTrajectory)}`
      : '',
    c.assertions.length
      ? `<div class="label">assertions</div><ul>${c.assertions.map((a) => `<li>${h(describeAssertion(a))}</li>`).join('')}</ul>`
      : '',
    `<div class="dim">agent ${h(c.agent)}${c.origin ? ` · ${h(c.origin)}` : ''}${c.sourceRun ? ` · from run ${h(c.sourceRun)}` : ''}</div>`,
  ].join('');
  const tags = c.tags.map((t) => `<span class="tag">${h(t)}</span>`).join('');
  return `<section class="case ${c.status}" id="case-${h(c.id)}"><details${c.status === 'passed' ? '' : ' open'}><summary><span class="mark">${marks[c.status]}</span> <b>${h(c.id)}</b> <span class="num">${fixed(c.score)}</span> ${tags}<span class="dim"> ${h(c.status)}</span></summary><div class="body">${expected}${c.trials
    .map((t) => trialSection(t, c.trials.length > 1))
    .join('')}</div></details></section>`;
}

const style = `
:root{color-scheme:light dark;--fg:#1d2125;--dim:#6a737d;--bg:#fff;--panel:#f6f8fa;--line:#d0d7de;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--dim:#8d96a0;--bg:#0d1117;--panel:#161b22;--line:#30363d;--ok:#3fb950;--bad:#f85149;--warn:#d29922}}
body{font:14px/1.45 system-ui,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}h4{margin:12px 0 6px;font-size:13px;font-weight:600}
.dim{color:var(--dim);font-size:12px}.num{font-variant-numeric:tabular-nums}
.big{font-size:40px;font-weight:700}.summary{display:flex;gap:28px;align-items:baseline;flex-wrap:wrap}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{font-size:12px;color:var(--dim);font-weight:600}
.bar{display:inline-block;width:90px;height:8px;background:var(--panel);border:1px solid var(--line);border-radius:4px;vertical-align:middle;margin-right:6px}
.bar span{display:block;height:100%;background:var(--ok);border-radius:4px}
.case{border:1px solid var(--line);border-radius:6px;margin:8px 0}.case summary{cursor:pointer;padding:8px 12px}
.case .body{padding:0 12px 12px}.case.failed{border-left:4px solid var(--bad)}.case.error{border-left:4px solid var(--warn)}
.case.passed{border-left:4px solid var(--ok)}.mark{display:inline-block;width:1em;font-weight:700}
.case.failed .mark{color:var(--bad)}.case.error .mark{color:var(--warn)}.case.passed .mark{color:var(--ok)}
.tag{font-size:11px;border:1px solid var(--line);border-radius:10px;padding:0 6px;margin-left:4px}
pre{background:var(--panel);border:1px solid var(--line);border-radius:4px;padding:6px 8px;white-space:pre-wrap;word-break:break-word;margin:4px 0;max-height:320px;overflow:auto;font-size:12px}
.label{font-size:12px;color:var(--dim);margin-top:8px}
tr.fail td:nth-child(3){color:var(--bad)}tr.error td:nth-child(3){color:var(--warn)}tr.pass td:nth-child(3){color:var(--ok)}
.trajectory{padding-left:20px}.turn{font-size:12px;color:var(--dim)}.call{margin:4px 0 4px 12px}.call.error pre{border-color:var(--bad)}
.error-text{color:var(--warn)}.trial{border-top:1px dashed var(--line);margin-top:10px}
body:has(#not-passed:checked) .case.passed{display:none}
`;

/**
 * The result as one HTML page with nothing outside it (no scripts, styles or fonts to
 * fetch): the suite's score and counts, each evaluator's mean and pass rate with its judge
 * prompt version, and every case with its input and expectations, each trial's scores and
 * explanations, its trajectory (turns, tool calls with arguments and results) and its final
 * answer. Every text from the runs is escaped.
 */
export function htmlReport(result: EvalResult): string {
  const s = result.summary;
  const evaluatorRows = result.evaluators.map((e) => {
    const sum = s.byEvaluator[e.name];
    return `<tr><td><b>${h(e.name)}</b><div class="dim">${h(e.kind)}</div></td><td>${h(e.level)}</td><td class="num">${e.threshold}</td><td class="num">${sum ? `${bar(sum.mean)}${fixed(sum.mean)}` : '<span class="dim">not applied</span>'}</td><td class="num">${sum ? `${Math.round(sum.passRate * 100)}%` : ''}</td><td class="num">${sum?.errors ?? ''}</td><td class="dim">${e.promptVersion ? h(e.promptVersion) : ''}</td></tr>`;
  });
  const meta = [
    h(result.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')),
    seconds(result.durationMs),
    `${result.trials} trial${result.trials === 1 ? '' : 's'} per case`,
    result.judge
      ? `judge ${h(result.judge.model)}${result.judge.scripted ? ' (scripted verdicts, not a model)' : ''}`
      : 'no judge',
    `agents ${usd(s.costUsd)}, judge ${usd(s.judgeCostUsd)}`,
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>agentd eval: ${h(result.suite.name)}</title><style>${style}</style></head>
<body>
<h1>agentd eval · ${h(result.suite.name)}</h1>
${result.suite.description ? `<p>${h(result.suite.description)}</p>` : ''}<p class="dim">${meta.join(' · ')}</p>
<div class="summary"><div><div class="big num">${fixed(s.score)}</div><div class="dim">suite score (mean of case scores)</div></div>
<div><b>${s.cases}</b> cases · <span style="color:var(--ok)">${s.passed} passed</span> · <span style="color:var(--bad)">${s.failed} failed</span> · <span style="color:var(--warn)">${s.errors} errors</span> · ${s.skipped} skipped</div></div>
<h2>Evaluators</h2>
<table><thead><tr><th>evaluator</th><th>level</th><th>threshold</th><th>mean</th><th>passed</th><th>errors</th><th>judge prompt</th></tr></thead><tbody>${evaluatorRows.join('')}</tbody></table>
<h2>Cases</h2>
<label class="dim"><input type="checkbox" id="not-passed"> only cases that did not pass</label>
${result.cases.map(caseSection).join('\n')}
<p class="dim">agentd eval result ${h(result.format)}</p>
</body></html>
`;
}
