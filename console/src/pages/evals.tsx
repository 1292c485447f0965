import { useState } from 'react';
import { api, type Schemas } from '../api/client';
import { formatCost, formatTime } from '../format';
import { href, navigate, withQuery } from '../router';
import { useLoad } from '../ui/hooks';
import { Badge, Empty, Failure, Page } from '../ui/parts';

export function EvalsPage({ rest, query }: { rest: string[]; query: URLSearchParams }) {
  if (rest[0] === 'compare') return <Compare a={query.get('a') ?? ''} b={query.get('b') ?? ''} />;
  if (rest[0]) return <Result id={rest[0]} />;
  return <Results />;
}

const score = (n: number | null | undefined) =>
  n === null || n === undefined ? '—' : n.toFixed(3);

function Results() {
  const results = useLoad(() => api.GET('/evals/results'), []);
  const [picked, setPicked] = useState<string[]>([]);
  const list = results.data?.results ?? [];
  const toggle = (id: string) =>
    setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p.slice(-1), id]));
  const compare = () => {
    const [b, a] = [...picked].sort(
      (x, y) => list.findIndex((r) => r.id === x) - list.findIndex((r) => r.id === y),
    );
    navigate(withQuery(href('evals', 'compare'), new URLSearchParams({ a: a!, b: b! })));
  };
  return (
    <Page
      title="Evaluations"
      actions={
        <button type="button" disabled={picked.length !== 2} onClick={compare}>
          Compare the two picked
        </button>
      }
    >
      <Failure error={results.error} />
      {!results.loading && list.length === 0 ? (
        <Empty title="No results yet.">
          Run a suite: <code>agentd eval run suite.yaml</code> keeps each result here.
        </Empty>
      ) : (
        <table className="grid" aria-label="Results">
          <thead>
            <tr>
              <th>Pick</th>
              <th>Result</th>
              <th>Suite</th>
              <th className="num">Score</th>
              <th>Cases</th>
              <th>Started</th>
            </tr>
          </thead>
          <tbody>
            {list.map((r) => (
              <tr key={r.id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`pick ${r.id}`}
                    checked={picked.includes(r.id)}
                    onChange={() => toggle(r.id)}
                  />
                </td>
                <td>
                  <a href={href('evals', r.id)}>{r.id.slice(0, 16)}</a>
                </td>
                <td>{r.suite}</td>
                <td className="num">{score(r.score)}</td>
                <td>
                  {r.passed} passed · {r.failed} failed · {r.errors} errors of {r.cases}
                </td>
                <td>{formatTime(r.startedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}

function Result({ id }: { id: string }) {
  const shown = useLoad(() => api.GET('/evals/results/{id}', { params: { path: { id } } }), [id]);
  const result = shown.data?.result;
  return (
    <Page
      title={
        <>
          <a href={href('evals')} className="crumb">
            Evaluations
          </a>{' '}
          / {result?.suite.name ?? id}
        </>
      }
    >
      <Failure error={shown.error} />
      {result && (
        <>
          <p>
            Suite score <strong>{score(result.summary.score)}</strong> · {result.summary.cases}{' '}
            cases × {result.trials} trials · agents {formatCost(result.summary.costUsd)}, judge{' '}
            {formatCost(result.summary.judgeCostUsd)}
            {result.judge &&
              ` · judge ${result.judge.model}${result.judge.scripted ? ' (scripted)' : ''}`}
          </p>
          <table className="grid" aria-label="Evaluators">
            <thead>
              <tr>
                <th>Evaluator</th>
                <th className="num">Mean</th>
                <th className="num">Pass rate</th>
                <th className="num">Errors</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(result.summary.byEvaluator).map(([name, e]) => (
                <tr key={name}>
                  <td>{name}</td>
                  <td className="num">{score(e.mean)}</td>
                  <td className="num">{Math.round(e.passRate * 100)}%</td>
                  <td className="num">{e.errors}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Cases</h2>
          {result.cases.map((c) => (
            <details key={c.id} className="case" open={c.status !== 'passed'}>
              <summary>
                <Badge value={c.status} /> <strong>{c.id}</strong>{' '}
                <span className="meta">
                  score {score(c.score)} · {c.input}
                </span>
              </summary>
              {c.trials.map((t) => (
                <div key={t.trial} className="trial">
                  <div className="meta">
                    trial {t.trial}{' '}
                    {t.runId && <a href={href('runs', t.runId)}>{t.runId.slice(0, 14)}</a>} ·{' '}
                    {t.status ?? ''} · {t.turns} turns · {formatCost(t.costUsd)}
                  </div>
                  {t.answer && <p className="tl-text">{t.answer}</p>}
                  {t.error && <div className="failure">{t.error}</div>}
                  <table className="grid compact" aria-label={`Scores of ${c.id} trial ${t.trial}`}>
                    <tbody>
                      {t.scores.map((s) => (
                        <tr key={s.evaluator}>
                          <td>{s.evaluator}</td>
                          <td>
                            <Badge value={s.error ? 'error' : s.pass ? 'passed' : 'failed'} />
                          </td>
                          <td className="num">{score(s.score)}</td>
                          <td className="explain">{s.error ?? s.explanation}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              ))}
            </details>
          ))}
        </>
      )}
    </Page>
  );
}

function interval(i: Schemas['CaseComparison']['interval']) {
  return i
    ? `[${i.low >= 0 ? '+' : ''}${i.low.toFixed(3)}, ${i.high >= 0 ? '+' : ''}${i.high.toFixed(3)}]`
    : '';
}

function Compare({ a, b }: { a: string; b: string }) {
  const compared = useLoad(
    () => api.GET('/evals/compare', { params: { query: { a, b } } }),
    [a, b],
  );
  const c = compared.data;
  const delta = (n: number | null) => (n === null ? '—' : `${n >= 0 ? '+' : ''}${n.toFixed(3)}`);
  return (
    <Page
      title={
        <>
          <a href={href('evals')} className="crumb">
            Evaluations
          </a>{' '}
          / compare
        </>
      }
    >
      <Failure error={compared.error} />
      {c && (
        <>
          <p>
            A: <a href={href('evals', a)}>{c.a.name}</a> {formatTime(c.a.startedAt)} ({c.a.cases}{' '}
            cases × {c.a.trials}) → B: <a href={href('evals', b)}>{c.b.name}</a>{' '}
            {formatTime(c.b.startedAt)} ({c.b.cases} cases × {c.b.trials})
          </p>
          <table className="grid" aria-label="Metrics">
            <thead>
              <tr>
                <th>Metric</th>
                <th className="num">A</th>
                <th className="num">B</th>
                <th className="num">Change</th>
                <th>95% interval</th>
                <th>Verdict</th>
              </tr>
            </thead>
            <tbody>
              {c.metrics.map((m) => (
                <tr key={m.name}>
                  <td>
                    {m.name}
                    {m.promptChange && <span className="tag">judge prompt changed</span>}
                  </td>
                  <td className="num">{score(m.a)}</td>
                  <td className="num">{score(m.b)}</td>
                  <td className="num">{delta(m.delta)}</td>
                  <td>{interval(m.interval)}</td>
                  <td>
                    <Badge
                      value={m.verdict === 'unknown' ? 'cannot tell' : m.verdict}
                      tone={
                        m.verdict === 'better' ? 'good' : m.verdict === 'worse' ? 'bad' : 'plain'
                      }
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Regressions</h2>
          {c.regressions.length === 0 ? (
            <p className="ok">No case got worse beyond noise.</p>
          ) : (
            <CaseTable cases={c.regressions} />
          )}
          <h2>Improvements</h2>
          {c.improvements.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <CaseTable cases={c.improvements} />
          )}
          {(c.onlyInA.length > 0 || c.onlyInB.length > 0) && (
            <p className="meta">
              only in A: {c.onlyInA.join(', ') || 'none'} · only in B:{' '}
              {c.onlyInB.join(', ') || 'none'}
            </p>
          )}
          <p className="meta">{c.method}</p>
        </>
      )}
    </Page>
  );
}

function CaseTable({ cases }: { cases: Schemas['CaseComparison'][] }) {
  return (
    <table className="grid" aria-label="Cases">
      <thead>
        <tr>
          <th>Case</th>
          <th className="num">A</th>
          <th className="num">B</th>
          <th>Status</th>
          <th>Interval</th>
          <th>Evaluators that moved</th>
        </tr>
      </thead>
      <tbody>
        {cases.map((c) => (
          <tr key={c.id}>
            <td>{c.id}</td>
            <td className="num">{score(c.a)}</td>
            <td className="num">{score(c.b)}</td>
            <td>
              {c.statusA} → {c.statusB}
            </td>
            <td>{interval(c.interval)}</td>
            <td>
              {c.evaluators
                .map((e) => `${e.name} ${e.delta >= 0 ? '+' : ''}${e.delta.toFixed(2)}`)
                .join(', ')}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
