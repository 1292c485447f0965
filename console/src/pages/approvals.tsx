import { useEffect, useState } from 'react';
import { api, problemText } from '../api/client';
import { formatTime } from '../format';
import { href } from '../router';
import { useScope } from '../session';
import { useFocusOnShow, useLoad } from '../ui/hooks';
import { Badge, Empty, Failure, Json, Page } from '../ui/parts';

/**
 * Approve or deny one request. Shown only to a key with the approvals scope (the API
 * refuses the others anyway); a denial needs a reason, which the agent is told.
 */
export function AnswerButtons({ id, onAnswered }: { id: string; onAnswered?: () => void }) {
  const allowed = useScope('approvals');
  const [denying, setDenying] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  if (!allowed) return null;
  const answer = async (verb: 'approve' | 'deny') => {
    setBusy(true);
    const params = { path: { id } };
    const why = reason.trim();
    const { error } =
      verb === 'approve'
        ? await api.POST('/approvals/{id}/approve', { params, body: why ? { reason: why } : {} })
        : await api.POST('/approvals/{id}/deny', { params, body: { reason: why } });
    setBusy(false);
    if (error) return setError(problemText(error));
    setError(undefined);
    onAnswered?.();
  };
  return (
    <span className="answer">
      {denying ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            answer('deny');
          }}
        >
          <ReasonInput value={reason} onChange={setReason} />
          <button type="submit" className="danger" disabled={busy || !reason.trim()}>
            Deny
          </button>
          <button type="button" className="linkish" onClick={() => setDenying(false)}>
            back
          </button>
        </form>
      ) : (
        <>
          <button type="button" className="good" disabled={busy} onClick={() => answer('approve')}>
            Approve
          </button>
          <button type="button" className="danger" disabled={busy} onClick={() => setDenying(true)}>
            Deny…
          </button>
        </>
      )}
      {error && <Failure error={error} />}
    </span>
  );
}

function ReasonInput({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const ref = useFocusOnShow<HTMLInputElement>();
  return (
    <input
      ref={ref}
      aria-label="Why deny"
      placeholder="why (the agent is told)"
      value={value}
      onChange={(e) => onChange(e.target.value)}
    />
  );
}

export function ApprovalsPage({ focus }: { focus?: string }) {
  const [status, setStatus] = useState<'pending' | 'all'>('pending');
  const list = useLoad(
    () => api.GET('/approvals', { params: { query: { status, limit: 200 } } }),
    [status],
    2000,
  );
  const one = useLoad(
    () =>
      focus
        ? api.GET('/approvals/{id}', { params: { path: { id: focus } } })
        : Promise.resolve({ data: undefined }),
    [focus],
  );
  useEffect(() => {
    if (focus)
      document.getElementById(`approval-${one.data?.id}`)?.scrollIntoView({ block: 'center' });
  }, [focus, one.data?.id]);
  const approvals = [...(list.data?.approvals ?? [])];
  if (one.data && !approvals.some((a) => a.id === one.data!.id)) approvals.unshift(one.data);
  return (
    <Page
      title="Approvals"
      actions={
        <select
          aria-label="Which"
          value={status}
          onChange={(e) => setStatus(e.target.value as 'pending' | 'all')}
        >
          <option value="pending">waiting</option>
          <option value="all">all</option>
        </select>
      }
    >
      <Failure error={list.error ?? one.error} />
      {!list.loading && approvals.length === 0 && (
        <Empty
          title={
            status === 'pending' ? 'Nothing waits for a person.' : 'No requests for approval yet.'
          }
        >
          Calls that a policy marks <code>@approval("required")</code> wait here until someone
          answers.
        </Empty>
      )}
      <ul className="cards" aria-label="Requests">
        {approvals.map((a) => (
          <li
            key={a.id}
            id={`approval-${a.id}`}
            className={a.id === one.data?.id ? 'card focused' : 'card'}
          >
            <div className="card-head">
              <code>{a.tool}</code> <Badge value={a.status} />{' '}
              <span className="meta">
                {a.agent} · run <a href={href('runs', a.runId)}>{a.runId.slice(0, 14)}</a> · asked{' '}
                {formatTime(a.requestedAt)}
              </span>
            </div>
            <div className="meta">
              on {a.resource} · permitted by {a.policies.join(', ')} — {a.reason}
            </div>
            <Json value={a.input} />
            {a.status === 'pending' ? (
              <div className="card-foot">
                <AnswerButtons id={a.id} onAnswered={list.reload} />{' '}
                <span className="meta">expires {formatTime(a.expiresAt)}</span>
              </div>
            ) : (
              <div className="meta">
                {a.answeredBy ? `by ${a.answeredBy}` : ''}{' '}
                {a.answerReason ? `: ${a.answerReason}` : ''}{' '}
                {a.answeredAt ? `at ${formatTime(a.answeredAt)}` : ''}
              </div>
            )}
          </li>
        ))}
      </ul>
    </Page>
  );
}
