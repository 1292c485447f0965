import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Badge, Empty, toneOf } from './parts';

describe('status badges and empty states', () => {
  it('colours statuses by what they mean', () => {
    expect(['completed', 'allow', 'approved'].map(toneOf)).toEqual(['good', 'good', 'good']);
    expect(['failed', 'deny', 'timed_out'].map(toneOf)).toEqual(['bad', 'bad', 'bad']);
    expect(['awaiting_approval', 'needs_approval', 'budget_exceeded'].map(toneOf)).toEqual([
      'warn',
      'warn',
      'warn',
    ]);
    expect(renderToStaticMarkup(<Badge value="awaiting_approval" />)).toBe(
      '<span class="badge tone-warn">awaiting approval</span>',
    );
  });

  it('an empty state says what to do', () => {
    const html = renderToStaticMarkup(
      <Empty title="No runs yet.">
        <code>agentd run</code>
      </Empty>,
    );
    expect(html).toContain('role="status"');
    expect(html).toContain('<code>agentd run</code>');
  });
});
