import { useEffect, useRef } from 'react';
import { api } from '../api/client';
import { clip, formatClock, formatCost, formatTime, formatTokens } from '../format';
import { href } from '../router';
import { useLoad } from '../ui/hooks';
import { Badge, Empty, Failure, Page } from '../ui/parts';
import { useRowKeys } from '../ui/row-keys';

const columns = ['pending', 'blocked', 'claimed', 'in_progress', 'done', 'failed'] as const;

export function TeamsPage({ id }: { id?: string }) {
  return id ? <Team id={id} /> : <TeamList />;
}

function TeamList() {
  const teams = useLoad(() => api.GET('/teams'), [], 5000);
  const list = teams.data?.teams ?? [];
  const selected = useRowKeys(list.map((t) => href('teams', t.id)));
  return (
    <Page title="Teams">
      <Failure error={teams.error} />
      {!teams.loading && list.length === 0 ? (
        <Empty title="No teams yet.">
          Start one from a terminal: <code>agentd team run team.yaml "&lt;job&gt;"</code>
        </Empty>
      ) : (
        <table className="grid" aria-label="Teams">
          <thead>
            <tr>
              <th>Team</th>
              <th>Name</th>
              <th>Status</th>
              <th>Done</th>
              <th>Job</th>
              <th>Started</th>
            </tr>
          </thead>
          <tbody>
            {list.map((t, i) => (
              <tr key={t.id} data-selected={i === selected}>
                <td>
                  <a href={href('teams', t.id)}>{t.id.slice(0, 16)}</a>
                </td>
                <td>{t.name}</td>
                <td>
                  <Badge value={t.status} />
                </td>
                <td>
                  {t.tasksDone}/{t.tasks}
                </td>
                <td>{clip(t.task, 60)}</td>
                <td>{formatTime(t.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}

/** The team's log as a stream: any entry reloads the board (a burst reloads once). */
function useTeamLive(id: string, reload: () => void): void {
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => {
    const source = new EventSource(`/teams/${encodeURIComponent(id)}/events`);
    const poke = () => {
      clearTimeout(timer.current);
      timer.current = setTimeout(reload, 150);
    };
    for (const type of [
      'team.started',
      'team.resumed',
      'team.finished',
      'task.created',
      'task.changed',
      'message',
      'member.started',
      'member.finished',
    ]) {
      source.addEventListener(type, poke);
    }
    source.addEventListener('team.finished', () => source.close());
    return () => {
      source.close();
      clearTimeout(timer.current);
    };
  }, [id, reload]);
}

function Team({ id }: { id: string }) {
  const team = useLoad(() => api.GET('/teams/{id}', { params: { path: { id } } }), [id]);
  useTeamLive(id, team.reload);
  const t = team.data;
  return (
    <Page
      title={
        <>
          <a href={href('teams')} className="crumb">
            Teams
          </a>{' '}
          / {t?.team.name ?? id}
        </>
      }
    >
      <Failure error={team.error} />
      {t && (
        <>
          <div className="run-head">
            <dl>
              <div>
                <dt>Status</dt>
                <dd>
                  <Badge value={t.team.status} />
                </dd>
              </div>
              <div>
                <dt>Turns</dt>
                <dd>{t.usage.turns}</dd>
              </div>
              <div>
                <dt>Tokens</dt>
                <dd>{formatTokens(t.usage.tokens)}</dd>
              </div>
              <div>
                <dt>Cost</dt>
                <dd>{t.usage.costKnown ? formatCost(t.usage.costUsd) : 'unknown'}</dd>
              </div>
              <div>
                <dt>Lead run</dt>
                <dd>
                  <a href={href('runs', t.team.leadRunId)}>{t.team.leadRunId.slice(0, 14)}</a>
                </dd>
              </div>
            </dl>
            <p className="task">{t.team.task}</p>
            {t.team.detail && <p className="detail">{t.team.detail}</p>}
          </div>
          <h2>Board</h2>
          <section className="board" aria-label="Task board">
            {columns.map((status) => (
              <section key={status} className="column" aria-label={status}>
                <h3>
                  {status.replaceAll('_', ' ')}{' '}
                  <span className="meta">
                    {t.tasks.filter((task) => task.status === status).length}
                  </span>
                </h3>
                {t.tasks
                  .filter((task) => task.status === status)
                  .map((task) => (
                    <article key={task.id} className="task-card">
                      <strong>{task.title}</strong>
                      <div className="meta">
                        {task.id}
                        {task.assignee ? ` · for ${task.assignee}` : ''}
                        {task.owner ? ` · ${task.owner}` : ''}
                      </div>
                      {task.dependsOn.length > 0 && (
                        <div className="meta">after {task.dependsOn.join(', ')}</div>
                      )}
                      {task.runId && <a href={href('runs', task.runId)}>run</a>}
                      {task.result && <p className="tl-text">{clip(task.result, 120)}</p>}
                    </article>
                  ))}
              </section>
            ))}
          </section>
          <h2>Members' runs</h2>
          <table className="grid" aria-label="Members">
            <thead>
              <tr>
                <th>Member</th>
                <th>Task</th>
                <th>Run</th>
                <th>Status</th>
                <th className="num">Turns</th>
                <th className="num">Tokens</th>
                <th className="num">Cost</th>
              </tr>
            </thead>
            <tbody>
              {t.runs.map((r) => (
                <tr key={r.runId}>
                  <td>{r.member}</td>
                  <td>{r.task ?? '—'}</td>
                  <td>
                    <a href={href('runs', r.runId)}>{r.runId.slice(0, 14)}</a>
                  </td>
                  <td>
                    <Badge value={r.status} />
                  </td>
                  <td className="num">{r.turns}</td>
                  <td className="num">{formatTokens(r.tokens)}</td>
                  <td className="num">{formatCost(r.costUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <h2>Messages</h2>
          {t.messages.length === 0 ? (
            <p className="muted">No messages yet.</p>
          ) : (
            <ol className="messages">
              {t.messages.map((m) => (
                <li key={m.seq}>
                  <span className="meta">{formatClock(m.at)}</span> <strong>{m.from}</strong> →{' '}
                  {m.to}
                  {m.auto ? ' (auto)' : ''}: {m.text}
                </li>
              ))}
            </ol>
          )}
        </>
      )}
    </Page>
  );
}
