import { useState } from 'react';
import { api, problemText, type Schemas } from '../api/client';
import { formatTime } from '../format';
import { href } from '../router';
import { useLoad } from '../ui/hooks';
import { Badge, Empty, Failure, Field, Page } from '../ui/parts';

type Version = Schemas['PolicySetVersion'];
type WhatIf = {
  changes: Schemas['ChangedDecision'][];
  summary: {
    runs: number;
    calls: number;
    changed: number;
    byChange: Record<string, number>;
    policies: string;
    skippedRuns?: Record<string, number>;
  };
};

const sample = `@id("read-only")
permit (principal, action, resource) when { context has input };
`;

export function PoliciesPage() {
  const sets = useLoad(() => api.GET('/policies/sets'), []);
  const agents = useLoad(() => api.GET('/agents'), []);
  const [agent, setAgent] = useState('');
  const [text, setText] = useState(sample);
  const [candidate, setCandidate] = useState<string>('');
  const [problems, setProblems] = useState<Schemas['PolicyProblem'][] | null>(null);
  const [whatIf, setWhatIf] = useState<WhatIf>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [saveAs, setSaveAs] = useState('');
  const runnable = (agents.data?.agents ?? []).filter((a) => a.valid);
  const chosenAgent = agent || runnable[0]?.name || '';
  const policies = { 'candidate.cedar': text };

  const run = async <T,>(
    call: () => Promise<{ data?: T; error?: unknown }>,
    use: (data: T) => void,
  ) => {
    setBusy(true);
    setError(undefined);
    const { data, error } = await call();
    setBusy(false);
    if (data === undefined) return setError(problemText(error));
    use(data);
  };
  const validate = () =>
    run(
      () => api.POST('/policies/validate', { body: { agent: chosenAgent, policies } }),
      (r) => setProblems(r.problems),
    );
  const tryIt = () =>
    run(
      () =>
        api.POST('/policies/what-if', {
          body: candidate
            ? { set: candidate, ...(agent ? { agent } : {}) }
            : { policies, ...(agent ? { agent } : {}) },
        }),
      (r) => setWhatIf(r as WhatIf),
    );
  const save = () =>
    run(
      () => api.POST('/policies/sets', { body: { name: saveAs, policies } }),
      () => sets.reload(),
    );
  const activate = (v: Version) =>
    run(
      () =>
        api.POST('/policies/sets/{name}/activate', {
          params: { path: { name: v.name } },
          body: { version: v.version, ...(agent ? { agent } : {}) },
        }),
      () => sets.reload(),
    );
  const open = (v: Version) =>
    run(
      () =>
        api.GET('/policies/sets/{name}/versions/{version}', {
          params: { path: { name: v.name, version: v.version } },
        }),
      (full) => {
        setText(
          full.files
            .map((f) => (full.files.length > 1 ? `// ${f.name}\n${f.text}` : f.text))
            .join('\n'),
        );
        setCandidate(`${v.name}@${v.version}`);
      },
    );

  return (
    <Page title="Policies">
      <Failure error={sets.error ?? error} />
      <h2>Sets in the store</h2>
      {sets.data && sets.data.sets.length === 0 ? (
        <Empty title="No policy sets saved.">
          Save the candidate below, or from a terminal:{' '}
          <code>agentd policy save ./policies --as team</code>
        </Empty>
      ) : (
        <table className="grid" aria-label="Policy sets">
          <thead>
            <tr>
              <th>Set</th>
              <th>Version</th>
              <th>Files</th>
              <th>Saved</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {sets.data?.sets.map((v) => (
              <tr key={`${v.name}@${v.version}`}>
                <td>{v.name}</td>
                <td>
                  {v.version} {v.active && <Badge value="active" />}
                </td>
                <td>{v.files.join(', ')}</td>
                <td>{formatTime(v.createdAt)}</td>
                <td className="row-actions">
                  <button type="button" onClick={() => open(v)}>
                    Open as candidate
                  </button>
                  {!v.active && (
                    <button type="button" onClick={() => activate(v)} disabled={busy}>
                      Activate
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Candidate</h2>
      <div className="filters">
        <Field label="Agent (its tools make the schema)">
          <select value={agent} onChange={(e) => setAgent(e.target.value)}>
            <option value="">
              {runnable[0] ? `${runnable[0].name} (validate); all runs (what-if)` : 'no agents'}
            </option>
            {runnable.map((a) => (
              <option key={a.name} value={a.name}>
                {a.name}
              </option>
            ))}
          </select>
        </Field>
        {candidate && (
          <span className="tag">
            what-if uses {candidate}{' '}
            <button type="button" className="linkish" onClick={() => setCandidate('')}>
              use the text instead
            </button>
          </span>
        )}
      </div>
      <textarea
        aria-label="Candidate policies (Cedar)"
        className="code"
        rows={10}
        spellCheck={false}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          setCandidate('');
        }}
      />
      <div className="actions">
        <button type="button" onClick={validate} disabled={busy || !chosenAgent}>
          Validate
        </button>
        <button type="button" onClick={tryIt} disabled={busy}>
          What if?
        </button>
        <input
          aria-label="Save as"
          placeholder="set name"
          value={saveAs}
          onChange={(e) => setSaveAs(e.target.value)}
          size={12}
        />
        <button type="button" onClick={save} disabled={busy || !saveAs}>
          Save as a new version
        </button>
      </div>
      {problems && (
        <section className="problems" aria-label="Problems">
          {problems.length === 0 ? (
            <p className="ok">Valid against the schema of {chosenAgent}.</p>
          ) : (
            <ul>
              {problems.map((p) => (
                <li key={`${p.line}:${p.column}:${p.message}`} className={p.severity}>
                  {p.file}:{p.line}:{p.column}: {p.message}
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      {whatIf && <WhatIfResult result={whatIf} />}
    </Page>
  );
}

function WhatIfResult({ result }: { result: WhatIf }) {
  const { summary } = result;
  return (
    <section aria-label="What-if">
      <h2>What if {summary.policies} were in force</h2>
      <p>
        Replayed {summary.calls} calls of {summary.runs} runs:{' '}
        {summary.changed === 0
          ? 'no decision would change.'
          : `${summary.changed} would change (${Object.entries(summary.byChange)
              .map(([k, n]) => `${n} ${k}`)
              .join(', ')}).`}
      </p>
      {summary.skippedRuns &&
        Object.entries(summary.skippedRuns).map(([why, n]) => (
          <p key={why} className="meta">
            {n} runs not replayed: {why}
          </p>
        ))}
      {result.changes.length > 0 && (
        <table className="grid" aria-label="Changed decisions">
          <thead>
            <tr>
              <th>Run</th>
              <th>When</th>
              <th>Agent</th>
              <th>Action</th>
              <th>Resource</th>
              <th>Change</th>
              <th>Why now</th>
            </tr>
          </thead>
          <tbody>
            {result.changes.map((c) => (
              <tr key={`${c.runId}:${c.callId}`}>
                <td>
                  <a href={href('runs', c.runId)}>{c.runId.slice(0, 14)}</a>
                </td>
                <td>{formatTime(c.at)}</td>
                <td>{c.agent}</td>
                <td>
                  <code>{c.action}</code>
                </td>
                <td>{c.resource}</td>
                <td>
                  <Badge value={c.before} /> → <Badge value={c.after} />
                </td>
                <td>{c.afterReason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
