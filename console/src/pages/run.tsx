import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useMemo, useRef, useState } from 'react';
import { api, problemText, type RunEvent, type Schemas } from '../api/client';
import {
  clip,
  formatClock,
  formatCost,
  formatDuration,
  formatTime,
  formatTokens,
  showJson,
} from '../format';
import { href, navigate } from '../router';
import { useScope } from '../session';
import { costCurve, polyline } from '../timeline/curve';
import {
  foldTimeline,
  itemIndexOf,
  type TimelineItem,
  toolState,
  totalTokens,
} from '../timeline/fold';
import { useRunEvents } from '../timeline/live-events';
import { useKeys, useLoad } from '../ui/hooks';
import { Badge, Failure, Json, Page } from '../ui/parts';
import { AnswerButtons } from './approvals';

/** Events after which a run's status may differ. */
const statusTypes = new Set<RunEvent['type']>([
  'run.finished',
  'run.resumed',
  'run.needs_attention',
  'run.suspended',
  'approval.requested',
  'approval.answered',
]);

export function RunPage({ id, focusSeq }: { id: string; focusSeq?: number }) {
  const { events, live } = useRunEvents(id);
  // the run's summary again only when its status may have changed (not on every event)
  const statusSeq = events.findLast((e) => statusTypes.has(e.type))?.seq;
  // asked once the first events are on screen: folding a long log on the server takes a while
  const started = events.length > 0;
  const run = useLoad<Schemas['RunView']>(
    () => (started ? api.GET('/runs/{id}', { params: { path: { id } } }) : Promise.resolve({})),
    [id, statusSeq, started],
  );
  const items = useMemo(() => foldTimeline(events), [events]);
  const canRun = useScope('runs');
  const [error, setError] = useState<string>();
  const status = run.data?.status;
  const act = async (what: 'cancel' | 'resume') => {
    const path = { params: { path: { id } } };
    const { error } =
      what === 'cancel'
        ? await api.POST('/runs/{id}/cancel', path)
        : await api.POST('/runs/{id}/resume', path);
    setError(error ? problemText(error) : undefined);
    if (what === 'resume' && !error) location.reload();
  };
  return (
    <Page
      title={
        <>
          <a href={href('runs')} className="crumb">
            Runs
          </a>{' '}
          / {id}
        </>
      }
      actions={
        canRun && status ? (
          <>
            {(status === 'running' || status === 'awaiting_approval') && (
              <button type="button" onClick={() => act('cancel')}>
                Cancel
              </button>
            )}
            {status !== 'running' && status !== 'awaiting_approval' && status !== 'completed' && (
              <button type="button" onClick={() => act('resume')}>
                Resume
              </button>
            )}
          </>
        ) : undefined
      }
    >
      <Failure error={run.error ?? error} />
      {run.data && <RunHeader run={run.data} live={live} events={events} />}
      <div data-events={events.length}>
        <Timeline items={items} focusSeq={focusSeq} runId={id} />
      </div>
    </Page>
  );
}

function RunHeader({
  run,
  live,
  events,
}: {
  run: Schemas['RunView'];
  live: boolean;
  events: RunEvent[];
}) {
  const points = costCurve(events);
  return (
    <div className="run-head">
      <dl>
        <div>
          <dt>Status</dt>
          <dd>
            <Badge value={run.status} />{' '}
            {live && run.status === 'running' && <span className="live">live</span>}
          </dd>
        </div>
        <div>
          <dt>Agent</dt>
          <dd>{run.agent}</dd>
        </div>
        <div>
          <dt>Model</dt>
          <dd>{run.model}</dd>
        </div>
        <div>
          <dt>Turns</dt>
          <dd>{run.turns}</dd>
        </div>
        <div>
          <dt>Tokens</dt>
          <dd>{formatTokens(run.usage ? totalTokens(run.usage) : undefined)}</dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd>{formatCost(points.at(-1)?.costUsd ?? run.costUsd)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{formatTime(run.createdAt)}</dd>
        </div>
        {run.actor && (
          <div>
            <dt>Actor</dt>
            <dd>
              {run.actor}
              {run.sessionId ? ` · session ${run.sessionId}` : ''}
            </dd>
          </div>
        )}
      </dl>
      <p className="task">{run.task}</p>
      {run.detail && <p className="detail">{run.detail}</p>}
      {points.length > 1 && <Curve points={points} />}
    </div>
  );
}

function Curve({ points }: { points: ReturnType<typeof costCurve> }) {
  const w = 320;
  const h = 48;
  return (
    <figure className="curve" aria-label="Cost and tokens over time">
      <svg viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img">
        <title>Cost and tokens over the run</title>
        <polyline
          className="tokens"
          points={polyline(
            points.map((p) => ({ t: p.t, v: p.tokens })),
            w,
            h,
          )}
        />
        <polyline
          className="cost"
          points={polyline(
            points.map((p) => ({ t: p.t, v: p.costUsd })),
            w,
            h,
          )}
        />
      </svg>
      <figcaption>
        <span className="key-cost">cost {formatCost(points.at(-1)!.costUsd)}</span> ·{' '}
        <span className="key-tokens">tokens {formatTokens(points.at(-1)!.tokens)}</span> over{' '}
        {formatDuration(points.at(-1)!.t)}
      </figcaption>
    </figure>
  );
}

function Timeline({
  items,
  focusSeq,
  runId,
}: {
  items: TimelineItem[];
  focusSeq?: number;
  runId: string;
}) {
  const parent = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => parent.current,
    estimateSize: () => 64,
    overscan: 12,
  });
  const focused = focusSeq === undefined ? -1 : itemIndexOf(items, focusSeq);
  const [selected, setSelected] = useState(-1);
  useEffect(() => {
    if (focused >= 0) {
      setSelected(focused);
      virtualizer.scrollToIndex(focused, { align: 'center' });
    }
  }, [focused, virtualizer]);
  useKeys({
    j: () => setSelected((s) => Math.min(items.length - 1, s + 1)),
    k: () => setSelected((s) => Math.max(0, s - 1)),
  });
  useEffect(() => {
    if (selected >= 0) virtualizer.scrollToIndex(selected, { align: 'auto' });
  }, [selected, virtualizer]);
  if (items.length === 0) return <p className="muted">Waiting for the run's first event…</p>;
  return (
    <div className="timeline" ref={parent}>
      <ul
        aria-label="Timeline"
        style={{ height: virtualizer.getTotalSize(), position: 'relative' }}
      >
        {virtualizer.getVirtualItems().map((row) => {
          const item = items[row.index]!;
          return (
            <li
              key={row.key}
              data-index={row.index}
              data-seq={item.seq}
              ref={virtualizer.measureElement}
              className={`tl tl-${item.kind}${row.index === selected ? ' tl-selected' : ''}`}
              style={{
                position: 'absolute',
                top: 0,
                left: 0,
                right: 0,
                transform: `translateY(${row.start}px)`,
              }}
            >
              <a
                className="tl-time"
                href={href('runs', runId, 'events', item.seq)}
                title={`event ${item.seq}: link to it`}
                onClick={(e) => {
                  e.preventDefault();
                  navigate(href('runs', runId, 'events', item.seq), true);
                }}
              >
                {formatClock(item.at)} #{item.seq}
              </a>
              <div className="tl-body">
                <ItemBody item={item} />
              </div>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function ItemBody({ item }: { item: TimelineItem }) {
  if (item.kind === 'model') {
    const r = item.response;
    return (
      <>
        <div className="tl-title">
          Model call, turn {item.turn}
          {item.request.effort && <span className="tag">effort {item.request.effort}</span>}
          {r && (
            <span className="meta">
              {formatTokens(r.usage.inputTokens)} in · {formatTokens(r.usage.outputTokens)} out ·{' '}
              {formatCost(r.costUsd)} · {formatDuration(r.durationMs)} ·{' '}
              {r.stopReason.replaceAll('_', ' ')}
            </span>
          )}
          {!r && <span className="meta">answering…</span>}
        </div>
        {item.retries.map((retry) => (
          <div key={retry.attempt} className="tl-retry">
            retry {retry.attempt} after {formatDuration(retry.delayMs)}:{' '}
            {retry.status ? `${retry.status} ` : ''}
            {retry.error}
          </div>
        ))}
        {r?.text && <p className="tl-text">{r.text}</p>}
      </>
    );
  }
  if (item.kind === 'tool') {
    const state = toolState(item);
    return (
      <>
        <div className="tl-title">
          Tool call <code>{item.name}</code> <Badge value={state} />
          {item.result && <span className="meta">{formatDuration(item.result.durationMs)}</span>}
        </div>
        <details>
          <summary>arguments</summary>
          <Json value={item.input} />
        </details>
        {item.decision && (
          <div className="tl-policy">
            policy: <Badge value={item.decision.decision} /> by{' '}
            {item.decision.policies.length
              ? item.decision.policies.join(', ')
              : 'no policy (default deny)'}{' '}
            — {item.decision.reason}
            {item.decision.mode === 'log_only' && <span className="tag">log only</span>}
          </div>
        )}
        {item.approval && (
          <div className="tl-approval">
            approval{' '}
            {item.approval.answer ? (
              <Badge value={item.approval.answer.answer} />
            ) : (
              <Badge value="waiting" />
            )}{' '}
            {item.approval.answer
              ? `by ${item.approval.answer.by}${item.approval.answer.reason ? `: ${item.approval.answer.reason}` : ''}`
              : `until ${formatTime(item.approval.expiresAt)}`}
            {!item.approval.answer && <AnswerButtons id={item.approval.approvalId} />}
            <a href={href('approvals', item.approval.approvalId)}>open</a>
          </div>
        )}
        {item.progress && !item.result && (
          <div className="meta">
            progress {item.progress.progress}
            {item.progress.total ? ` of ${item.progress.total}` : ''} {item.progress.message ?? ''}
          </div>
        )}
        {item.result && (
          <details open={item.result.isError}>
            <summary>{item.result.isError ? `error (${item.result.errorKind})` : 'result'}</summary>
            <pre className="json">{clip(showJson(item.result.output), 4000)}</pre>
          </details>
        )}
      </>
    );
  }
  const e = item.event;
  switch (e.type) {
    case 'run.started':
      return (
        <>
          <div className="tl-title">
            Started {e.data.agent} on {e.data.model}
            {e.data.scripted && <span className="tag">scripted replay</span>}
          </div>
          <div className="meta">
            {e.data.tools.length} tools · policy {e.data.policy?.mode ?? 'none'} · max{' '}
            {e.data.limits.maxTurns} turns
            {e.data.memory
              ? ` · recalled ${e.data.memory.memories.length} memories (${e.data.memory.mode})`
              : ''}
          </div>
        </>
      );
    case 'context.compacted':
      return (
        <>
          <div className="tl-title">
            Compaction ({e.data.mode}){' '}
            <span className="meta">
              {formatTokens(e.data.tokensBefore)} → {formatTokens(e.data.tokensAfter)} tokens ·{' '}
              {formatCost(e.data.costUsd)}
            </span>
          </div>
          <div className="meta">
            left the context: {e.data.removedMessages} messages (events{' '}
            {e.data.removedEvents.slice(0, 12).join(', ')}
            {e.data.removedEvents.length > 12 ? ', …' : ''}); stayed pinned: the task and the
            summary
          </div>
          <details>
            <summary>summary</summary>
            <p className="tl-text">{e.data.summary}</p>
          </details>
        </>
      );
    case 'budget.warning':
      return (
        <div className="tl-title warn">
          Budget warning: {e.data.budget} at {Math.round((e.data.used / e.data.limit) * 100)}% (
          {e.data.used} of {e.data.limit})
        </div>
      );
    case 'run.resumed':
      return (
        <div className="tl-title">
          Resumed (session {e.data.session})
          {e.data.inDoubt ? `, in-doubt calls: ${e.data.inDoubt}` : ''}
        </div>
      );
    case 'run.needs_attention':
      return (
        <>
          <div className="tl-title warn">Needs attention</div>
          <p className="tl-text">{e.data.message}</p>
        </>
      );
    case 'run.suspended':
      return <div className="tl-title">Suspended: {e.data.reason}</div>;
    case 'run.error':
      return (
        <div className="tl-title bad">
          Error {e.data.code}: {e.data.message}
        </div>
      );
    case 'run.finished':
      return (
        <>
          <div className="tl-title">
            Finished <Badge value={e.data.status} />{' '}
            <span className="meta">
              {e.data.reason.replaceAll('_', ' ')} · {e.data.turns} turns ·{' '}
              {formatTokens(totalTokens(e.data.usage))} tokens · {formatCost(e.data.costUsd)} ·{' '}
              {formatDuration(e.data.durationMs)}
            </span>
          </div>
          {(e.data.output ?? e.data.detail) && (
            <p className="tl-text">{e.data.output ?? e.data.detail}</p>
          )}
        </>
      );
    default:
      return <div className="tl-title">{e.type}</div>;
  }
}
