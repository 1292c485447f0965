import { useState } from 'react';
import { api, problemText, type Schemas } from '../api/client';
import { formatTime } from '../format';
import { href, navigate, withQuery } from '../router';
import { useLoad } from '../ui/hooks';
import { Badge, Empty, Failure, Page } from '../ui/parts';

export function AuditPage({ query }: { query: URLSearchParams }) {
  const run = query.get('run') ?? '';
  const entries = useLoad(
    () => api.GET('/audit', { params: { query: { limit: 500, ...(run ? { run } : {}) } } }),
    [run],
  );
  const [verdict, setVerdict] = useState<Schemas['AuditVerification']>();
  const [error, setError] = useState<string>();
  const verify = async () => {
    const { data, error } = await api.GET('/audit/verify');
    setVerdict(data);
    setError(error ? problemText(error) : undefined);
  };
  const list = [...(entries.data?.entries ?? [])].reverse();
  return (
    <Page
      title="Audit"
      actions={
        <button type="button" onClick={verify}>
          Verify the chain
        </button>
      }
    >
      <form className="filters" onSubmit={(e) => e.preventDefault()}>
        <input
          aria-label="Run"
          placeholder="run id"
          defaultValue={run}
          onChange={(e) =>
            navigate(
              withQuery(
                href('audit'),
                new URLSearchParams(e.target.value.trim() ? { run: e.target.value.trim() } : {}),
              ),
              true,
            )
          }
        />
      </form>
      <Failure error={entries.error ?? error} />
      {verdict && (
        <div className={verdict.ok ? 'verdict ok' : 'verdict bad'} role="status">
          {verdict.ok
            ? `The chain holds: ${verdict.entries} entries${verdict.head ? `, head #${verdict.head.seq} ${verdict.head.hash.slice(0, 16)}…` : ''}.`
            : `Broken at entry #${verdict.seq}: ${verdict.problem}`}
        </div>
      )}
      {!entries.loading && list.length === 0 ? (
        <Empty title="No decisions audited yet.">
          Every tool call a policy decides is written here, hash-chained.
        </Empty>
      ) : (
        <table className="grid" aria-label="Audit entries">
          <thead>
            <tr>
              <th>#</th>
              <th>When</th>
              <th>Principal</th>
              <th>User</th>
              <th>Action</th>
              <th>Resource</th>
              <th>Decision</th>
              <th>Policies</th>
              <th>Run</th>
              <th>Hash</th>
            </tr>
          </thead>
          <tbody>
            {list.map((e) => (
              <tr key={e.seq}>
                <td>{e.seq}</td>
                <td>{formatTime(e.at)}</td>
                <td>{e.principal}</td>
                <td>{e.user}</td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td>{e.resource}</td>
                <td>
                  <Badge value={e.decision} />
                  {e.mode === 'log_only' && <span className="tag">log only</span>}
                </td>
                <td>{e.policies.join(', ')}</td>
                <td>{e.runId ? <a href={href('runs', e.runId)}>{e.runId.slice(0, 12)}</a> : ''}</td>
                <td className="hash">{e.hash.slice(0, 10)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}
