import { describe, expect, it } from 'vitest';
import { href, parseHash, withQuery } from './router';

describe('addresses', () => {
  it('deep links to a run, an event and an approval read back as their parts', () => {
    expect(parseHash(href('runs', 'run_01abc', 'events', 42)).parts).toEqual([
      'runs',
      'run_01abc',
      'events',
      '42',
    ]);
    expect(parseHash('#/approvals/apr_1').parts).toEqual(['approvals', 'apr_1']);
    const route = parseHash(withQuery(href('runs'), new URLSearchParams({ status: 'failed' })));
    expect(route.parts).toEqual(['runs']);
    expect(route.query.get('status')).toBe('failed');
    expect(parseHash('').parts).toEqual([]);
  });
});
