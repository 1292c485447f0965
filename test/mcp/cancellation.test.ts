import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ToolGate } from '../../src/policy/gate.ts';
import { runToolCall } from '../../src/runtime/tool-runner.ts';
import { mcpTools } from '../../src/tools/mcp/mcp-tool.ts';
import { tempDir } from '../support/temp-dir.ts';
import { connection, testServerConfig, until } from './support.ts';

describe('cancelling a run', () => {
  for (const era of ['2026-07-28', '2025-11-25'] as const) {
    it(`cancels the MCP request on the server (${era})`, async () => {
      const cwd = tempDir();
      const c = connection({
        name: 'test',
        config: testServerConfig(cwd, { env: era === '2025-11-25' ? { LEGACY_ONLY: '1' } : {} }),
      });
      const tools = new ToolGate(await mcpTools(c));
      expect(c.protocolVersion).toBe(era);

      const controller = new AbortController();
      const outcome = runToolCall(
        { id: 'call-1', name: 'test__slow', input: { ms: 20_000, tag: 'run' } },
        tools,
        { runId: 'run-1', idempotencyKey: 'run-1:3', signal: controller.signal },
      );
      // cancelled once the server is working on it
      await until(() => existsSync(join(cwd, 'started-run')));
      controller.abort();
      expect(await outcome).toMatchObject({ isError: true, errorKind: 'cancelled' });

      // The server saw notifications/cancelled: its handler's signal fired.
      const marker = join(cwd, 'cancelled-run');
      await until(() => existsSync(marker));
      expect(readFileSync(marker, 'utf8')).not.toBe('');
    });
  }
});
