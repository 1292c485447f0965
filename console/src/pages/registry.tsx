import { useState } from 'react';
import { api, problemText } from '../api/client';
import { clip, formatTime } from '../format';
import { useScope } from '../session';
import { useLoad } from '../ui/hooks';
import { Badge, Empty, Failure, Page } from '../ui/parts';

export function RegistryPage() {
  const servers = useLoad(() => api.GET('/registry/servers'), []);
  const admin = useScope('registry_admin');
  const [query, setQuery] = useState('');
  const [asked, setAsked] = useState('');
  const found = useLoad(
    () =>
      asked
        ? api.GET('/registry/search', { params: { query: { q: asked, limit: 20 } } })
        : Promise.resolve({ data: undefined }),
    [asked],
  );
  const [error, setError] = useState<string>();
  const setEnabled = async (name: string, enabled: boolean) => {
    const path = { params: { path: { name } } };
    const { error } = enabled
      ? await api.POST('/registry/servers/{name}/enable', path)
      : await api.POST('/registry/servers/{name}/disable', path);
    setError(error ? problemText(error) : undefined);
    servers.reload();
  };
  const list = servers.data?.servers ?? [];
  return (
    <Page title="Registry and tools">
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked(query.trim());
        }}
      >
        <input
          type="search"
          aria-label="Search tools"
          placeholder="search tools by what they do"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <button type="submit">Search</button>
      </form>
      <Failure error={servers.error ?? error ?? found.error} />
      {found.data && (
        <section aria-label="Tools found">
          <h2>Tools for “{asked}”</h2>
          {found.data.tools.length === 0 ? (
            <p className="muted">No tool of an enabled server matches.</p>
          ) : (
            <ul className="cards">
              {found.data.tools.map((t) => (
                <li key={t.ref} className="card">
                  <code>{t.ref}</code> <span className="meta">score {t.score.toFixed(2)}</span>
                  <div>{t.description}</div>
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
      <h2>Servers</h2>
      {!servers.loading && list.length === 0 ? (
        <Empty title="No MCP servers registered.">
          Add one from a terminal:{' '}
          <code>agentd mcp add files --npm @modelcontextprotocol/server-filesystem -- .</code>
        </Empty>
      ) : (
        <ul className="cards" aria-label="Servers">
          {list.map((s) => (
            <li key={s.name} className="card">
              <div className="card-head">
                <strong>{s.name}</strong> <Badge value={s.enabled ? 'enabled' : 'disabled'} />{' '}
                <span className="meta">{s.runs}</span>
                {admin && (
                  <button type="button" onClick={() => setEnabled(s.name, !s.enabled)}>
                    {s.enabled ? 'Disable' : 'Enable'}
                  </button>
                )}
              </div>
              {s.description && <div>{s.description}</div>}
              <div className="meta">
                sandbox {s.containment.sandbox} · network {s.containment.network ? 'on' : 'off'} ·{' '}
                {s.secrets.length ? `secrets ${s.secrets.join(', ')}` : 'no secrets'} ·{' '}
                {s.tools.length} tools
                {s.toolsListedAt ? ` (listed ${formatTime(s.toolsListedAt)})` : ''}
              </div>
              <details>
                <summary>tools</summary>
                <ul>
                  {s.tools.map((t) => (
                    <li key={t.name}>
                      <code>{t.name}</code> {clip(t.description, 140)}
                    </li>
                  ))}
                </ul>
              </details>
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}
