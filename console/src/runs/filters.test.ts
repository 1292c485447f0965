import { describe, expect, it } from 'vitest';
import { activeFilters, apiQuery, filtersFromQuery, filtersToQuery } from './filters';

describe('runs filters', () => {
  it('round-trips through the page address, dropping empty and unknown values', () => {
    const query = new URLSearchParams(
      'agent=deployer&status=failed&q=%20&within=2w&actor=alice&junk=1',
    );
    const filters = filtersFromQuery(query);
    expect(filters).toEqual({ agent: 'deployer', status: 'failed', actor: 'alice' });
    expect(filtersToQuery(filters).toString()).toBe('agent=deployer&status=failed&actor=alice');
    expect(activeFilters(filters)).toBe(3);
  });

  it('becomes the API query: a span becomes since, costs become numbers', () => {
    const now = Date.parse('2026-11-08T12:00:00.000Z');
    const made = apiQuery({ within: '7d', minCost: '0.5', team: 'team_1', q: 'deploy' }, now, {
      limit: 50,
      cursor: 'abc',
    });
    expect(made).toEqual({
      query: {
        limit: 50,
        cursor: 'abc',
        q: 'deploy',
        team: 'team_1',
        since: '2026-11-01T12:00:00.000Z',
        minCost: 0.5,
      },
    });
  });

  it('a cost that is not an amount is one line naming the field, before any request', () => {
    expect(apiQuery({ maxCost: 'ten' }, 0, { limit: 50 })).toEqual({
      error: 'max cost: "ten" is not an amount in USD',
    });
    expect(apiQuery({ minCost: '-1' }, 0, { limit: 50 })).toEqual({
      error: 'min cost: "-1" is not an amount in USD',
    });
  });
});
