import type { ReactNode } from 'react';
import { showJson } from '../format';

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty" role="status">
      <strong>{title}</strong>
      {children && <div>{children}</div>}
    </div>
  );
}

export function Failure({ error }: { error?: string }) {
  if (!error) return null;
  return (
    <div className="failure" role="alert">
      {error}
    </div>
  );
}

export function Badge({ value, tone }: { value: string; tone?: string }) {
  return (
    <span className={`badge tone-${tone ?? toneOf(value)}`}>{value.replaceAll('_', ' ')}</span>
  );
}

export function toneOf(value: string): string {
  if (
    [
      'completed',
      'done',
      'allow',
      'approved',
      'passed',
      'active',
      'better',
      'trusted',
      'enabled',
      'ok',
    ].includes(value)
  )
    return 'good';
  if (
    ['failed', 'deny', 'denied', 'error', 'worse', 'untrusted', 'timed_out', 'disabled'].includes(
      value,
    )
  )
    return 'bad';
  if (['running', 'in_progress', 'claimed'].includes(value)) return 'busy';
  if (
    [
      'awaiting_approval',
      'needs_approval',
      'needs_attention',
      'waiting',
      'pending',
      'blocked',
      'budget_exceeded',
      'suspended',
    ].includes(value)
  )
    return 'warn';
  return 'plain';
}

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{showJson(value)}</pre>;
}

export function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is the child
    <label className="field">
      <span>{label}</span>
      {children}
    </label>
  );
}

export function Page({
  title,
  actions,
  children,
}: {
  title: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="page">
      <header className="page-head">
        <h1>{title}</h1>
        {actions && <div className="actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}
