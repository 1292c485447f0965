import assert from 'node:assert/strict';
import { test } from 'node:test';
import { badge } from '../src/badge.js';
import { greeting } from '../src/greeting.js';
import * as names from '../src/names.js';

const ada = { first: 'Ada', last: 'Lovelace' };

test('the API is displayName, and formatName is gone', () => {
  assert.equal(names.displayName(ada), 'Ada Lovelace');
  assert.equal(names.formatName, undefined);
});

test('its callers still work', () => {
  assert.equal(greeting(ada), 'Hello, Ada Lovelace!');
  assert.equal(badge(ada), '[ADA LOVELACE]');
});
