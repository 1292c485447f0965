import { describe } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';
import { everythingCases } from './everything-cases.ts';
import { bin, connection, stdioConfig } from './support.ts';

describe('server-everything over stdio', () => {
  everythingCases(() =>
    connection({
      name: 'everything',
      config: stdioConfig(
        bin('mcp-server-everything'),
        ['stdio'],
        tempDir('agentd-mcp-everything-'),
      ),
    }),
  );
});
