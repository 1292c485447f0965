import { describe, expect, it } from 'vitest';
import { agentd } from '../support/cli.ts';
import { otlpReceiver } from '../support/otlp-receiver.ts';
import { tempDir } from '../support/temp-dir.ts';
import { telemetryEnv, writeTelemetryAgent } from './support.ts';

describe('smoke', () => {
  it('runs', async () => {
    const dir = tempDir();
    const home = tempDir();
    const spec = writeTelemetryAgent(dir);
    const receiver = await otlpReceiver();
    try {
      const result = await agentd(['run', spec, 'look it up'], {
        home,
        env: telemetryEnv(receiver.url),
      });
      console.log(result.stderr, result.code);
      console.log(JSON.stringify(receiver.spans, null, 1));
      expect(result.code).toBe(0);
    } finally {
      await receiver.close();
    }
  });
});
