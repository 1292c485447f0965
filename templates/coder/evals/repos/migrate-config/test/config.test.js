import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../src/config.js';

test('the settings come from config.json, with a number for the port', () => {
  assert.equal(existsSync('config.ini'), false, 'config.ini is migrated away');
  assert.deepEqual(loadConfig(), { port: 8080, host: '0.0.0.0' });
});
