import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/cli.ts';

/** A secret-shaped value and message text that must never leave unless content is captured. */
export const secretKey = 'sk-ant-api03-TELEMETRYTESTSECRET0123456789abcdef';
export const toolArgument = 'the-argument-text-4711';
export const modelText = 'The answer text 9000 from the model';

/**
 * A scripted agent with one tool call (`lookup`) whose input carries an argument text and a
 * key, and a final answer; `deny` adds a policy set that refuses the tool. With TELEMETRY_GATE
 * set to a file, the tool waits while the file exists (to kill the run mid-call).
 */
export function writeTelemetryAgent(dir: string, options: { deny?: boolean } = {}): string {
  writeFileSync(
    join(dir, 'tools.ts'),
    `import { existsSync } from 'node:fs';
import { defineTool, z } from ${JSON.stringify(`${repoRoot}src/index.ts`)};
export const lookup = defineTool({
  name: 'lookup', description: 'Looks a word up.', idempotent: true,
  input: z.object({ word: z.string(), key: z.string() }),
  async execute({ word }, { signal }) {
    const gate = process.env.TELEMETRY_GATE;
    if (gate) {
      // waits until the test removes the gate file (or the run is cancelled)
      while (existsSync(gate) && !signal.aborted) await new Promise((r) => setTimeout(r, 20));
    }
    return 'result for ' + word.length + ' letters';
  },
});
`,
  );
  writeFileSync(
    join(dir, 'script.yaml'),
    `turns:
  - text: Looking it up.
    tool_calls:
      - name: lookup
        input: { word: ${JSON.stringify(toolArgument)}, key: ${JSON.stringify(secretKey)} }
  - text: ${JSON.stringify(modelText)}
`,
  );
  const spec = join(dir, 'agent.yaml');
  writeFileSync(
    spec,
    `name: tracer\nmodel: scripted/tracer\nscript: script.yaml\ninstructions: Look words up.\ntools:\n  - module: tools.ts\n${options.deny ? 'policy: { dir: policies }\n' : ''}`,
  );
  if (options.deny) {
    mkdirSync(join(dir, 'policies'), { recursive: true });
    writeFileSync(
      join(dir, 'policies', 'deny.cedar'),
      '@id("no-lookups")\n@reason("lookups are off")\nforbid (principal, action, resource);\n@id("all")\npermit (principal, action, resource);\n',
    );
  }
  return spec;
}

/** The environment that turns telemetry on and points it at a receiver. */
export function telemetryEnv(
  url: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    AGENTD_TELEMETRY: 'on',
    OTEL_EXPORTER_OTLP_ENDPOINT: url,
    OTEL_BSP_SCHEDULE_DELAY: '0',
    ...extra,
  };
}
