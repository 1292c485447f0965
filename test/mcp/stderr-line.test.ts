import { describe, expect, it } from 'vitest';
import { telling } from '../../src/tools/mcp/mcp-connection.ts';

describe('the stderr line an error quotes', () => {
  it('is the error, not the Node banner or a stack frame printed after it', () => {
    expect(
      telling([
        '[eval]:1',
        "throw new Error('boom')",
        '^',
        '',
        'Error: boom: missing config',
        '    at [eval]:1:7',
        '    at runScriptInThisContext (node:internal/vm:219:10)',
        '',
        'Node.js v24.21.0',
      ]),
    ).toBe('Error: boom: missing config');
  });

  it('is the last line that is not noise when nothing names an error', () => {
    expect(telling(['listening', 'ready to serve', 'Node.js v24.21.0'])).toBe('ready to serve');
    expect(telling([])).toBeUndefined();
  });
});
