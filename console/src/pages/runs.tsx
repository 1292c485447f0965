import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api, problemText, type Schemas } from '../api/client';
import { clip, formatCost, formatTime, formatTokens } from '../format';
import { href, navigate, withQuery } from '../router';
import {
  activeFilters,
  apiQuery,
  filtersFromQuery,
  filtersToQuery,
  type RunFilters,
  withinChoices,
} from '../runs/filters';
import { useScope } from '../session';
import { useFocusOnShow, useKeys, useLoad } from '../ui/hooks';
import { Badge, Empty, Failure, Field, Page } from '../ui/parts';
import { useRowKeys } from '../ui/row-keys';

type Run = Schemas['RunSummary'];
const statuses: NonNullable<Run['status']>[] = [
  'running',
  'awaiting_approval',
  'completed',
  'failed',
  'cancelled',
  'budget_exceeded',
  'needs_attention',
  'suspended',
];
const pageSize = 50;

export function RunsPage({ query }: { query: URLSearchParams }) {
  const filters = filtersFromQuery(query);
  const key = filtersToQuery(filters).toString();
  const [runs, setRuns] = useState<Run[]>([]);
  const [cursor, setCursor] = useState<string>();
  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const agents = useLoad(() => api.GET('/agents'), []);

  const load = async (after?: string) => {
    const made = apiQuery(filters, Date.now(), {
      limit: pageSize,
      ...(after ? { cursor: after } : {}),
    });
    if ('error' in made) {
      setError(made.error);
      setLoading(false);
      return;
    }
    const mine = ++generation.current;
    setLoading(true);
    const { data, error } = await api.GET('/runs', { params: { query: made.query } });
    if (mine !== generation.current) return;
    setLoading(false);
    if (!data) return setError(problemText(error));
    setError(undefined);
    setRuns((now) => (after ? [...now, ...data.runs] : data.runs));
    setCursor(data.nextCursor);
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when the filters change
  useEffect(() => {
    load();
  }, [key]);

  const setFilters = (next: RunFilters) =>
    navigate(withQuery(href('runs'), filtersToQuery(next)), true);
  const links = runs.map((r) => href('runs', r.id));
  const selected = useRowKeys(links);
  const search = useRef<HTMLInputElement>(null);
  useKeys({
    '/': (e) => {
      e.preventDefault();
      search.current?.focus();
    },
  });

  return (
    <Page
      title="Runs"
      actions={useScope('runs') && <StartRun agents={agents.data?.agents ?? []} />}
    >
      <form className="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
        <Field label="Search">
          <input
            ref={search}
            type="search"
            placeholder="task words or run id"
            defaultValue={filters.q}
            onChange={debounced((q) => setFilters({ ...filters, q }))}
          />
        </Field>
        <Field label="Agent">
          <select
            value={filters.agent ?? ''}
            onChange={(e) => setFilters({ ...filters, agent: e.target.value })}
          >
            <option value="">any</option>
            {agents.data?.agents.map((a) => (
              <option key={a.name}>{a.name}</option>
            ))}
          </select>
        </Field>
        <Field label="Status">
          <select
            value={filters.status ?? ''}
            onChange={(e) =>
              setFilters({
                ...filters,
                status: (e.target.value || undefined) as RunFilters['status'],
              })
            }
          >
            <option value="">any</option>
            {statuses.map((s) => (
              <option key={s} value={s}>
                {s.replaceAll('_', ' ')}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Started">
          <select
            value={filters.within ?? ''}
            onChange={(e) => setFilters({ ...filters, within: e.target.value })}
          >
            <option value="">any time</option>
            {withinChoices.map((w) => (
              <option key={w} value={w}>
                last {w}
              </option>
            ))}
          </select>
        </Field>
        {(['actor', 'session', 'team'] as const).map((name) => (
          <Field key={name} label={name[0]!.toUpperCase() + name.slice(1)}>
            <input
              defaultValue={filters[name]}
              size={10}
              onChange={debounced((v) => setFilters({ ...filters, [name]: v }))}
            />
          </Field>
        ))}
        <Field label="Cost from $">
          <input
            inputMode="decimal"
            size={6}
            defaultValue={filters.minCost}
            onChange={debounced((v) => setFilters({ ...filters, minCost: v }))}
          />
        </Field>
        <Field label="to $">
          <input
            inputMode="decimal"
            size={6}
            defaultValue={filters.maxCost}
            onChange={debounced((v) => setFilters({ ...filters, maxCost: v }))}
          />
        </Field>
        {activeFilters(filters) > 0 && (
          <button type="button" className="linkish" onClick={() => navigate(href('runs'))}>
            clear {activeFilters(filters)} filter{activeFilters(filters) === 1 ? '' : 's'}
          </button>
        )}
      </form>
      <Failure error={error} />
      {!loading && !error && runs.length === 0 ? (
        activeFilters(filters) ? (
          <Empty title="No run matches these filters." />
        ) : (
          <Empty title="No runs yet.">
            Start one here, or from a terminal: <code>agentd run &lt;agent&gt; "&lt;task&gt;"</code>
          </Empty>
        )
      ) : (
        <table className="grid" aria-label="Runs" aria-busy={loading}>
          <thead>
            <tr>
              <th>Run</th>
              <th>Agent</th>
              <th>Status</th>
              <th>Task</th>
              <th>Actor</th>
              <th className="num">Tokens</th>
              <th className="num">Cost</th>
              <th>Started</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run, i) => (
              <tr
                key={run.id}
                data-selected={i === selected}
                onClick={() => navigate(href('runs', run.id))}
              >
                <td>
                  <a href={href('runs', run.id)}>{run.id.slice(0, 14)}</a>
                </td>
                <td>{run.agent}</td>
                <td>
                  <Badge value={run.status} />
                </td>
                <td title={run.task}>{clip(run.task, 70)}</td>
                <td>{run.actor ?? ''}</td>
                <td className="num">
                  {run.usage ? formatTokens(run.usage.inputTokens + run.usage.outputTokens) : ''}
                </td>
                <td className="num">{run.finishedAt ? formatCost(run.costUsd) : ''}</td>
                <td>{formatTime(run.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {cursor && (
        <button type="button" className="more" onClick={() => load(cursor)} disabled={loading}>
          Show more
        </button>
      )}
    </Page>
  );
}

/** A change handler that waits for typing to pause. */
function debounced(fn: (value: string) => void, ms = 250) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return (event: { target: { value: string } }) => {
    const value = event.target.value;
    clearTimeout(timer);
    timer = setTimeout(() => fn(value.trim()), ms);
  };
}

function StartRun({ agents }: { agents: Schemas['Agent'][] }) {
  const [open, setOpen] = useState(false);
  const [agent, setAgent] = useState('');
  const [task, setTask] = useState('');
  const [error, setError] = useState<string>();
  const runnable = agents.filter((a) => a.valid);
  const taskField = useFocusOnShow<HTMLInputElement>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const { data, error } = await api.POST('/runs', {
      body: { agent: agent || runnable[0]!.name, task },
    });
    if (!data) return setError(problemText(error));
    navigate(href('runs', data.id));
  };
  if (!open) {
    return (
      <button
        type="button"
        onClick={() => setOpen(true)}
        disabled={runnable.length === 0}
        title={runnable.length ? '' : 'no agents on this machine: add specs to ~/.agentd/agents'}
      >
        Start a run
      </button>
    );
  }
  return (
    <form className="start" onSubmit={submit} aria-label="Start a run">
      <select aria-label="Agent" value={agent} onChange={(e) => setAgent(e.target.value)}>
        {runnable.map((a) => (
          <option key={a.name} value={a.name}>
            {a.name}
            {a.model ? ` (${a.model})` : ''}
          </option>
        ))}
      </select>
      <input
        aria-label="Task"
        placeholder="What should it do?"
        value={task}
        onChange={(e) => setTask(e.target.value)}
        ref={taskField}
      />
      <button type="submit" disabled={!task.trim()}>
        Start
      </button>
      <button type="button" className="linkish" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error && <Failure error={error} />}
    </form>
  );
}
