import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slugify } from '../src/slug.js';

test('lowercases a word', () => {
  assert.equal(slugify('Hello'), 'hello');
});

test('joins words with single dashes', () => {
  assert.equal(slugify('Hello,  World!'), 'hello-world');
});
