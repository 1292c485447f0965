import { useState } from 'react';
import { api, problemText, type Schemas } from '../api/client';
import { clip, formatTime } from '../format';
import { href, navigate, withQuery } from '../router';
import { useLoad } from '../ui/hooks';
import { Badge, Empty, Failure, Field, Page } from '../ui/parts';

type Memory = Schemas['Memory'];

export function MemoryPage({ id, query }: { id?: string; query: URLSearchParams }) {
  return id ? <MemoryDetail id={id} /> : <MemoryList query={query} />;
}

function MemoryList({ query }: { query: URLSearchParams }) {
  const actor = query.get('actor') ?? '';
  const namespace = query.get('namespace') ?? '';
  const q = query.get('q') ?? '';
  const filter = { ...(actor ? { actor } : {}), ...(namespace ? { namespace: [namespace] } : {}) };
  const listed = useLoad<{ memories: Memory[]; mode?: string; note?: string }>(
    () =>
      q
        ? api
            .GET('/memory/search', { params: { query: { q, limit: 50, ...filter } } })
            .then(({ data, error }) => ({
              data: data && {
                memories: data.memories.map((m) => m.memory),
                mode: data.mode,
                note: data.note,
              },
              error,
            }))
        : api
            .GET('/memory', { params: { query: { limit: 200, ...filter } } })
            .then(({ data, error }) => ({
              data: data && { memories: data.memories, mode: undefined, note: undefined },
              error,
            })),
    [actor, namespace, q],
  );
  const set = (name: string, value: string) => {
    const next = new URLSearchParams(query);
    if (value) next.set(name, value);
    else next.delete(name);
    navigate(withQuery(href('memory'), next), true);
  };
  const memories = listed.data?.memories ?? [];
  return (
    <Page title="Memory">
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label="Memory filters">
        <Field label="Search">
          <input
            type="search"
            defaultValue={q}
            onKeyDown={(e) => e.key === 'Enter' && set('q', e.currentTarget.value.trim())}
            placeholder="what to recall (Enter)"
          />
        </Field>
        <Field label="Actor">
          <input
            defaultValue={actor}
            onKeyDown={(e) => e.key === 'Enter' && set('actor', e.currentTarget.value.trim())}
            placeholder="alice"
          />
        </Field>
        <Field label="Namespace">
          <input
            defaultValue={namespace}
            onKeyDown={(e) => e.key === 'Enter' && set('namespace', e.currentTarget.value.trim())}
            placeholder="/actor/alice"
          />
        </Field>
      </form>
      {listed.data?.mode && (
        <p className="meta">
          search: {listed.data.mode}
          {listed.data.note ? `; ${listed.data.note}` : ''}
        </p>
      )}
      <Failure error={listed.error} />
      {!listed.loading && memories.length === 0 ? (
        <Empty title={q || actor || namespace ? 'No memory matches.' : 'No memories yet.'}>
          Agents with a <code>memory:</code> section write them after their runs (see
          docs/memory.md).
        </Empty>
      ) : (
        <table className="grid" aria-label="Memories">
          <thead>
            <tr>
              <th>Memory</th>
              <th>Kind</th>
              <th>Trust</th>
              <th>Namespace</th>
              <th>Text</th>
              <th>Updated</th>
            </tr>
          </thead>
          <tbody>
            {memories.map((m) => (
              <tr key={m.id}>
                <td>
                  <a href={href('memory', m.id)}>{m.id.slice(0, 16)}</a>
                </td>
                <td>{m.kind}</td>
                <td>
                  <Badge value={m.trust} /> <span className="meta">{m.provenance.source}</span>
                </td>
                <td>{m.namespace}</td>
                <td>{clip(m.text, 90)}</td>
                <td>{formatTime(m.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}

function MemoryDetail({ id }: { id: string }) {
  const shown = useLoad(() => api.GET('/memory/{id}', { params: { path: { id } } }), [id]);
  const [error, setError] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const forget = async () => {
    const { data, error } = await api.DELETE('/memory/{id}', { params: { path: { id } } });
    if (!data) return setError(problemText(error));
    navigate(href('memory'));
  };
  const m: Memory | undefined = shown.data?.memory;
  const p = m?.provenance;
  return (
    <Page
      title={
        <>
          <a href={href('memory')} className="crumb">
            Memory
          </a>{' '}
          / {id}
        </>
      }
      actions={
        m &&
        (confirming ? (
          <>
            <span>Forget it and {shown.data!.history.length} earlier versions?</span>
            <button type="button" className="danger" onClick={forget}>
              Forget
            </button>
            <button type="button" className="linkish" onClick={() => setConfirming(false)}>
              keep
            </button>
          </>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Forget…
          </button>
        ))
      }
    >
      <Failure error={shown.error ?? error} />
      {m && p && (
        <>
          <blockquote className="memory-text">{m.text}</blockquote>
          <dl className="facts">
            <dt>Kind</dt>
            <dd>
              {m.kind} {m.status === 'superseded' && <Badge value="superseded" />}
            </dd>
            <dt>Namespace</dt>
            <dd>{m.namespace}</dd>
            {m.key && (
              <>
                <dt>Key</dt>
                <dd>{m.key}</dd>
              </>
            )}
            <dt>Trust</dt>
            <dd>
              <Badge value={m.trust} />{' '}
              {m.trust === 'untrusted' ? 'recalled only as quoted data, never as instructions' : ''}
            </dd>
            <dt>Said by</dt>
            <dd>
              {p.source}
              {p.tools?.length ? ` (${p.tools.join(', ')})` : ''}
              {p.note ? `: ${p.note}` : ''}
            </dd>
            <dt>Written by</dt>
            <dd>
              {p.via === 'extraction'
                ? `extraction${p.extractor ? ` (${p.extractor})` : ''}`
                : 'the agent (memory.save)'}
            </dd>
            {p.runId && (
              <>
                <dt>From</dt>
                <dd>
                  run <a href={href('runs', p.runId)}>{p.runId}</a>, events{' '}
                  {p.events.map((seq) => (
                    <a key={seq} href={href('runs', p.runId!, 'events', seq)} className="seq">
                      #{seq}
                    </a>
                  ))}
                </dd>
              </>
            )}
            {p.actor && (
              <>
                <dt>Actor</dt>
                <dd>{p.actor}</dd>
              </>
            )}
            <dt>Indexed</dt>
            <dd>
              full-text{shown.data?.vectorModel ? `, vector (${shown.data.vectorModel})` : ''}
            </dd>
            <dt>Updated</dt>
            <dd>{formatTime(m.updatedAt)}</dd>
          </dl>
          {shown.data!.history.length > 0 && (
            <>
              <h2>Earlier versions</h2>
              <ul>
                {shown.data!.history.map((old) => (
                  <li key={old.id}>
                    {formatTime(old.createdAt)}: {old.text}
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
    </Page>
  );
}
