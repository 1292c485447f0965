import type { ElicitRequestParams } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.ts';
import { bin, connection, stdioConfig } from './support.ts';

describe('elicitation', () => {
  it('is offered only with a handler, which answers the server', async () => {
    const asked: ElicitRequestParams[] = [];
    const withHandler = connection({
      name: 'everything',
      config: stdioConfig(bin('mcp-server-everything'), ['stdio'], tempDir()),
      elicitation: {
        handler: async (request) => {
          asked.push(request);
          return { action: 'decline' };
        },
      },
    });
    const names = (await withHandler.listTools()).map((tool) => tool.name);
    expect(names).toContain('trigger-elicitation-request');
    const result = await withHandler.callTool('trigger-elicitation-request', {});
    expect(asked).toHaveLength(1);
    expect(JSON.stringify(result.content)).toContain('User declined');

    const without = connection({
      name: 'everything',
      config: stdioConfig(bin('mcp-server-everything'), ['stdio'], tempDir()),
    });
    expect((await without.listTools()).map((tool) => tool.name)).not.toContain(
      'trigger-elicitation-request',
    );
  });
});
