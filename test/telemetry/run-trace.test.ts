import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as semconv from '@opentelemetry/semantic-conventions/incubating';
import { describe, expect, it } from 'vitest';
import { genAi, mcp, metricNames } from '../../src/telemetry/attribute-names.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { otlpGrpcReceiver, otlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { tempDir } from '../support/temp-dir.ts';
import {
  modelText,
  secretKey,
  telemetryEnv,
  toolArgument,
  writeTelemetryAgent,
} from './support.ts';

/** The spans of an OTLP/JSON file as `agentd runs trace -o` writes it. */
function fileSpans(path: string): {
  spanId: string;
  parentSpanId: string;
  name: string;
  start: string;
  end: string;
  attributes: string[];
}[] {
  const json = JSON.parse(readFileSync(path, 'utf8')) as {
    resourceSpans: {
      scopeSpans: {
        spans: {
          spanId: string;
          parentSpanId?: string;
          name: string;
          startTimeUnixNano: string;
          endTimeUnixNano: string;
          attributes: { key: string }[];
        }[];
      }[];
    }[];
  };
  return json.resourceSpans.flatMap((rs) =>
    rs.scopeSpans.flatMap((ss) =>
      ss.spans.map((s) => ({
        spanId: s.spanId,
        parentSpanId: s.parentSpanId ?? '',
        name: s.name,
        start: String(BigInt(s.startTimeUnixNano) / 1_000_000n),
        end: String(BigInt(s.endTimeUnixNano) / 1_000_000n),
        attributes: s.attributes.map((a) => a.key).sort(),
      })),
    ),
  );
}

const summary = (spans: ReceivedSpan[]) =>
  spans
    .map((s) => ({
      spanId: s.spanId,
      parentSpanId: s.parentSpanId,
      name: s.name,
      start: String(s.startMs),
      end: String(s.endMs),
      attributes: Object.keys(s.attributes).sort(),
    }))
    .sort((a, b) => a.spanId.localeCompare(b.spanId));

const runIdOf = (spans: ReceivedSpan[]) =>
  String(spans.find((s) => s.name.startsWith('invoke_agent'))?.attributes['agentd.run.id']);

describe('a run traced over OTLP/HTTP protobuf', () => {
  it('exports invoke_agent, chat and execute_tool spans that match agentd runs trace, with no content', async () => {
    const dir = tempDir();
    const home = tempDir();
    const spec = writeTelemetryAgent(dir);
    const receiver = await otlpReceiver();
    try {
      const run = await agentd(['run', spec, 'look the word up'], {
        home,
        env: telemetryEnv(receiver.url),
      });
      expect(run.code, run.stderr).toBe(0);
      const spans = receiver.spans;
      const names = spans.map((s) => s.name).sort();
      expect(names).toEqual([
        'chat tracer',
        'chat tracer',
        'execute_tool lookup',
        'invoke_agent tracer',
      ]);
      const root = spans.find((s) => s.name === 'invoke_agent tracer')!;
      expect(root.parentSpanId).toBe('');
      expect(root.kind).toBe(1); // INTERNAL
      for (const span of spans) {
        expect(span.traceId).toBe(root.traceId);
        if (span !== root) expect(span.parentSpanId).toBe(root.spanId);
        expect(span.endMs).toBeGreaterThanOrEqual(span.startMs);
        expect(span.resource['service.name']).toBe('agentd');
      }
      const chats = spans.filter((s) => s.name === 'chat tracer');
      expect(chats.map((c) => c.kind)).toEqual([3, 3]); // CLIENT
      expect(chats[0]!.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'agentd.scripted',
        'gen_ai.request.model': 'tracer',
        'gen_ai.response.model': 'tracer',
        'gen_ai.response.finish_reasons': ['tool_calls'],
      });
      expect(chats[1]!.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
      expect(chats[0]!.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      const tool = spans.find((s) => s.name === 'execute_tool lookup')!;
      expect(tool.attributes).toMatchObject({
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': 'lookup',
        'gen_ai.tool.type': 'function',
        'gen_ai.tool.description': 'Looks a word up.',
      });
      expect(tool.attributes['gen_ai.tool.call.id']).toMatch(/\S/);
      // The tool ran between the two model calls.
      expect(tool.startMs).toBeGreaterThanOrEqual(chats[0]!.endMs);
      expect(chats[1]!.startMs).toBeGreaterThanOrEqual(tool.endMs);
      expect(root.attributes).toMatchObject({
        'gen_ai.agent.name': 'tracer',
        'agentd.run.status': 'completed',
        'gen_ai.system': 'agentd.scripted', // v1.36 name, without the opt-in
      });
      expect(run.stderr).not.toContain('telemetry');

      // Content capture is off: no message text, argument or key in any byte sent.
      const sent = Buffer.concat(receiver.bodies).toString('latin1');
      for (const text of [
        secretKey,
        toolArgument,
        modelText,
        'Look words up.',
        'look the word up',
      ]) {
        expect(sent).not.toContain(text);
      }

      // After the fact: the same trace, span for span.
      const file = join(dir, 'trace.json');
      const trace = await agentd(['runs', 'trace', runIdOf(spans), '-o', file], { home });
      expect(trace.code, trace.stderr).toBe(0);
      expect(trace.stderr).toContain(`trace ${root.traceId}`);
      const stored = fileSpans(file).sort((a, b) => a.spanId.localeCompare(b.spanId));
      expect(stored).toEqual(summary(spans));
      const text = readFileSync(file, 'utf8');
      for (const secret of [secretKey, toolArgument, modelText]) expect(text).not.toContain(secret);

      // And sent again over OTLP: the same span ids.
      const again = await otlpReceiver();
      try {
        const sentAgain = await agentd(['runs', 'trace', runIdOf(spans), '--endpoint', again.url], {
          home,
        });
        expect(sentAgain.code, sentAgain.stderr).toBe(0);
        expect(summary(again.spans)).toEqual(summary(spans));
      } finally {
        await again.close();
      }

      // Metrics: token usage and duration per model call, runs and tool calls.
      const metric = (name: string) => receiver.metrics.filter((m) => m.name === name);
      expect(metric('gen_ai.client.token.usage').length).toBeGreaterThan(0);
      expect(metric('gen_ai.client.operation.duration').length).toBeGreaterThan(0);
      const finished = metric('agentd.runs.finished').flatMap((m) => m.points);
      expect(finished).toEqual([
        {
          attributes: { 'gen_ai.agent.name': 'tracer', 'agentd.run.status': 'completed' },
          value: 1,
        },
      ]);
      const tools = metric('agentd.tool.calls').flatMap((m) => m.points);
      expect(tools).toEqual([
        {
          attributes: { 'gen_ai.tool.name': 'lookup', 'agentd.policy.decision': 'none' },
          value: 1,
        },
      ]);
    } finally {
      await receiver.close();
    }
  });

  it('records a denied call with the policy decision, and captures content only when asked (redacted)', async () => {
    const dir = tempDir();
    const home = tempDir();
    const spec = writeTelemetryAgent(dir, { deny: true });
    const receiver = await otlpReceiver();
    try {
      const run = await agentd(['run', spec, 'look the word up'], {
        home,
        env: telemetryEnv(receiver.url, {
          OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true',
          OTEL_SEMCONV_STABILITY_OPT_IN: 'http,gen_ai_latest_experimental',
        }),
      });
      expect(run.code, run.stderr).toBe(0);
      const tool = receiver.spans.find((s) => s.name === 'execute_tool lookup')!;
      expect(tool.attributes).toMatchObject({
        'agentd.policy.decision': 'deny',
        'agentd.policy.effect': 'deny',
        'agentd.policy.mode': 'enforce',
        'agentd.policy.ids': ['no-lookups'],
        'agentd.policy.principal': 'Agent::"tracer"',
        'error.type': 'denied',
      });
      expect(tool.status.code).toBe(2); // ERROR
      // Opted in: arguments, messages and instructions are there, the key is not.
      expect(String(tool.attributes['gen_ai.tool.call.arguments'])).toContain(toolArgument);
      const chats = receiver.spans.filter((s) => s.name === 'chat tracer');
      expect(String(chats[1]!.attributes['gen_ai.output.messages'])).toContain(modelText);
      expect(String(chats[1]!.attributes['gen_ai.input.messages'])).toContain('look the word up');
      const root = receiver.spans.find((s) => s.name === 'invoke_agent tracer')!;
      expect(String(root.attributes['gen_ai.system_instructions'])).toContain('Look words up.');
      expect(root.attributes['gen_ai.system']).toBeUndefined(); // latest names only
      expect(Buffer.concat(receiver.bodies).toString('latin1')).not.toContain(secretKey);
      const tools = receiver.metrics
        .filter((m) => m.name === 'agentd.tool.calls')
        .flatMap((m) => m.points);
      expect(tools).toEqual([
        {
          attributes: {
            'gen_ai.tool.name': 'lookup',
            'agentd.policy.decision': 'deny',
            'error.type': 'denied',
          },
          value: 1,
        },
      ]);
    } finally {
      await receiver.close();
    }
  });

  it('gives a run killed with SIGKILL and resumed one trace of linked segments, no span twice', async () => {
    const dir = tempDir();
    const home = tempDir();
    const spec = writeTelemetryAgent(dir);
    const gate = join(dir, 'gate');
    writeFileSync(gate, 'closed');
    const receiver = await otlpReceiver();
    const env = telemetryEnv(receiver.url, { TELEMETRY_GATE: gate });
    try {
      let runId = '';
      let called: () => void = () => undefined;
      const toolCalled = new Promise<void>((resolve) => {
        called = resolve;
      });
      let killer: ((signal: NodeJS.Signals) => void) | undefined;
      const running = agentd(['run', spec, 'look the word up', '--json'], {
        home,
        env,
        onStdout: (text, kill) => {
          runId ||= /"runId":"(run_[^"]+)"/.exec(text)?.[1] ?? '';
          killer = kill;
          if (text.includes('"type":"tool.call"')) called();
        },
      });
      // The tool call is durable and the first model call's span is out: kill it there.
      await toolCalled;
      await receiver.waitFor((spans) => spans.some((s) => s.name === 'chat tracer'));
      killer!('SIGKILL');
      const killed = await running;
      expect(killed.code).toBe(null); // killed
      rmSync(gate);
      const resumed = await agentd(['runs', 'resume', runId], { home, env });
      expect(resumed.code, resumed.stderr).toBe(0);

      const spans = receiver.spans;
      const ids = spans.map((s) => s.spanId);
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
      const segments = spans.filter((s) => s.name === 'invoke_agent tracer');
      expect(segments).toHaveLength(2);
      const [first, second] = segments.sort((a, b) => a.startMs - b.startMs);
      expect(first!.attributes['error.type']).toBe('agentd.interrupted');
      expect(second!.links).toEqual([
        {
          traceId: first!.traceId,
          spanId: first!.spanId,
          attributes: { 'agentd.link': 'resumed_from' },
        },
      ]);
      expect(second!.attributes['agentd.run.resume']).toBe(1);
      const tools = spans.filter((s) => s.name === 'execute_tool lookup');
      expect(tools.map((t) => [t.parentSpanId, t.attributes['error.type'] ?? null]).sort()).toEqual(
        [
          [first!.spanId, 'agentd.interrupted'],
          [second!.spanId, null],
        ].sort(),
      );
      expect(spans.filter((s) => s.name === 'chat tracer').map((c) => c.parentSpanId)).toEqual([
        first!.spanId,
        second!.spanId,
      ]);

      // The stored log gives the same trace.
      const file = join(dir, 'trace.json');
      expect((await agentd(['runs', 'trace', runId, '-o', file], { home })).code).toBe(0);
      expect(fileSpans(file).sort((a, b) => a.spanId.localeCompare(b.spanId))).toEqual(
        summary(spans),
      );
    } finally {
      if (existsSync(gate)) rmSync(gate);
      await receiver.close();
    }
  });
});

describe('OTLP protocols', () => {
  for (const protocol of ['http/json', 'grpc'] as const) {
    it(`${protocol}: the same spans and metrics`, async () => {
      const dir = tempDir();
      const home = tempDir();
      const spec = writeTelemetryAgent(dir);
      const receiver = protocol === 'grpc' ? await otlpGrpcReceiver() : await otlpReceiver();
      try {
        const run = await agentd(['run', spec, 'look the word up'], {
          home,
          env: telemetryEnv(receiver.url, { OTEL_EXPORTER_OTLP_PROTOCOL: protocol }),
        });
        expect(run.code, run.stderr).toBe(0);
        expect(receiver.spans.map((s) => s.name).sort()).toEqual([
          'chat tracer',
          'chat tracer',
          'execute_tool lookup',
          'invoke_agent tracer',
        ]);
        const root = receiver.spans.find((s) => s.name === 'invoke_agent tracer')!;
        expect(receiver.spans.every((s) => s.traceId === root.traceId)).toBe(true);
        expect(receiver.metrics.map((m) => m.name)).toContain('gen_ai.client.token.usage');
        if (protocol === 'http/json') {
          expect(JSON.parse(receiver.bodies[0]!.toString('utf8'))).toHaveProperty('resourceSpans');
        }
      } finally {
        await receiver.close();
      }
    });
  }
});

describe('a team traced', () => {
  it("puts every member's run in the lead's trace, a child of the lead's span", async () => {
    const home = tempDir();
    const receiver = await otlpReceiver();
    try {
      const run = await agentd(
        [
          'team',
          'run',
          'examples/team/team.yaml',
          'Write a short guide to examples/unit-converter',
        ],
        { home, cwd: repoRoot, env: telemetryEnv(receiver.url) },
      );
      expect(run.code, run.stderr).toBe(0);
      const runs = receiver.spans.filter((s) => s.name.startsWith('invoke_agent'));
      const lead = runs.find((s) => s.parentSpanId === '')!;
      expect(lead.name).toBe('invoke_agent repo-docs/lead');
      const members = runs.filter((s) => s !== lead);
      expect(members.map((s) => s.name).sort()).toEqual([
        'invoke_agent repo-docs/reader',
        'invoke_agent repo-docs/reviewer',
        'invoke_agent repo-docs/writer',
      ]);
      for (const member of members) {
        expect(member.traceId).toBe(lead.traceId);
        expect(member.parentSpanId).toBe(lead.spanId);
        expect(member.attributes['agentd.run.parent_id']).toBe(lead.attributes['agentd.run.id']);
      }
      expect(new Set(receiver.spans.map((s) => s.traceId))).toEqual(new Set([lead.traceId]));
      // The reviewer's denied edit is on its tool span.
      const denied = receiver.spans.find((s) => s.attributes['agentd.policy.effect'] === 'deny')!;
      expect(denied.attributes['agentd.policy.principal']).toBe('Agent::"repo-docs/reviewer"');

      // runs trace of the lead gives the whole team.
      const file = join(home, 'team-trace.json');
      const trace = await agentd(
        ['runs', 'trace', String(lead.attributes['agentd.run.id']), '-o', file],
        {
          home,
        },
      );
      expect(trace.code, trace.stderr).toBe(0);
      expect(trace.stderr).toContain('of 4 runs');
      expect(fileSpans(file).sort((a, b) => a.spanId.localeCompare(b.spanId))).toEqual(
        summary(receiver.spans),
      );
    } finally {
      await receiver.close();
    }
  }, 60_000);
});

describe('a collector that is down', () => {
  for (const mode of ['refuses connections', 'hangs'] as const) {
    it(`${mode}: the run completes as without telemetry, with one warning line`, async () => {
      const dir = tempDir();
      const home = tempDir();
      const spec = writeTelemetryAgent(dir);
      const receiver = await otlpReceiver('hang');
      const url = receiver.url;
      if (mode === 'refuses connections') await receiver.close();
      // A short wait at exit for what is still queued.
      writeFileSync(
        join(home, 'config.yaml'),
        'telemetry:\n  enabled: true\n  flush_timeout: 300ms\n',
      );
      try {
        const run = await agentd(['run', spec, 'look the word up'], {
          home,
          env: { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_BSP_SCHEDULE_DELAY: '0' },
        });
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain(modelText);
        const warnings = run.stderr.split('\n').filter((line) => line.includes('telemetry'));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(
          /^agentd: telemetry: \d+ spans? not exported to http:\/\/127\.0\.0\.1:\d+\/v1\/traces/,
        );
        expect(warnings[0]).not.toContain('\n');
        const shown = await agentd(['runs', 'list', '--json'], { home });
        expect(shown.stdout).toContain('"status":"completed"');
      } finally {
        if (mode === 'hangs') await receiver.close();
      }
    });
  }
});

describe('telemetry off', () => {
  it('loads no OpenTelemetry module (and on, it does)', async () => {
    const dir = tempDir();
    const home = tempDir();
    const spec = writeTelemetryAgent(dir);
    const hook = join(repoRoot, 'test/telemetry/fixtures/record-imports.mjs');
    const loaded = async (env: Record<string, string>) => {
      const log = join(dir, `imports-${Object.keys(env).length}.log`);
      writeFileSync(log, '');
      const run = await agentd(['run', spec, 'look the word up'], {
        home,
        env: { NODE_OPTIONS: `--import ${hook}`, IMPORT_LOG: log, ...env },
      });
      expect(run.code, run.stderr).toBe(0);
      return readFileSync(log, 'utf8').split('\n');
    };
    const off = await loaded({});
    expect(off.some((url) => url.includes('/src/cli/commands/run.ts'))).toBe(true);
    expect(off.filter((url) => /@opentelemetry|\/pino\/|telemetry-session/.test(url))).toEqual([]);
    const receiver = await otlpReceiver();
    try {
      const on = await loaded(telemetryEnv(receiver.url));
      expect(on.some((url) => url.includes('@opentelemetry/sdk-metrics'))).toBe(true);
    } finally {
      await receiver.close();
    }
  });
});

describe('telemetry settings', () => {
  it('a bad OTEL variable is one line naming it, before the run starts', async () => {
    const dir = tempDir();
    const home = tempDir();
    const spec = writeTelemetryAgent(dir);
    const run = await agentd(['run', spec, 'look the word up'], {
      home,
      env: { AGENTD_TELEMETRY: 'on', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/xml' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      'agentd: OTEL_EXPORTER_OTLP_PROTOCOL: "http/xml" is not an OTLP protocol (use http/protobuf, http/json, grpc)',
    );
  });

  it('a header without a value names the variable and never echoes it', async () => {
    const dir = tempDir();
    const home = tempDir();
    const spec = writeTelemetryAgent(dir);
    const run = await agentd(['run', spec, 'look the word up'], {
      home,
      env: { AGENTD_TELEMETRY: 'on', OTEL_EXPORTER_OTLP_HEADERS: 'sk-secretvalue-without-equals' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('OTEL_EXPORTER_OTLP_HEADERS: an entry is not key=value');
    expect(run.stderr).not.toContain('sk-secretvalue');
  });

  it('runs trace names an unknown run in one line', async () => {
    const home = tempDir();
    const result = await agentd(['runs', 'trace', 'run_nope', '-o', join(home, 'x.json')], {
      home,
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'agentd: no run "run_nope" (or the prefix matches several): see agentd runs list',
    );
  });
});

describe('attribute names', () => {
  it('are the names @opentelemetry/semantic-conventions defines', () => {
    const defined = new Set(
      Object.entries(semconv)
        .filter(([key]) => key.startsWith('ATTR_') || key.startsWith('METRIC_'))
        .map(([, value]) => value as string),
    );
    for (const name of [
      ...Object.values(genAi),
      ...Object.values(mcp),
      ...Object.values(metricNames),
    ]) {
      expect(defined, name).toContain(name);
    }
  });
});
