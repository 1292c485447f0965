import { writeFileSync } from 'node:fs';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import { createRedactor } from '../../core/redact.ts';
import { leaseIsLive } from '../../runtime/run-lease.ts';
import { openStore } from '../../store/open-store.ts';
import { latestGenAiOnly } from '../../telemetry/attribute-names.ts';
import { telemetrySettings } from '../../telemetry/settings.ts';
import { storedTrace } from '../../telemetry/stored-trace.ts';
import { unreachable } from '../../telemetry/unreachable.ts';
import { paint } from '../format.ts';

export interface TraceFlags {
  output?: string;
  endpoint?: string;
}

/**
 * `agentd runs trace <id>`: a stored run's trace (with its members' and sub-agents' runs),
 * built from its events as the live export builds it, sent over OTLP to the configured
 * endpoint or written as OTLP/JSON to a file.
 */
export async function runsTraceCommand(id: string, flags: TraceFlags): Promise<number> {
  const config = loadConfig();
  if (flags.endpoint && flags.output) {
    throw new AgentdError('usage', '--endpoint and --output exclude each other: choose one');
  }
  const settings = telemetrySettings(
    flags.endpoint
      ? { ...config, env: { ...config.env, OTEL_EXPORTER_OTLP_ENDPOINT: flags.endpoint } }
      : config,
  );
  // Reading a run is no run: the store's own telemetry stays off.
  const store = openStore({ ...config, env: { ...config.env, AGENTD_TELEMETRY: 'off' } });
  let trace: Awaited<ReturnType<typeof storedTrace>>;
  try {
    const run = await store.getRun(id);
    if (!run) {
      throw new AgentdError(
        'run_not_found',
        `no run "${id}" (or the prefix matches several): see agentd runs list`,
      );
    }
    trace = await storedTrace(store, run.id, {
      captureContent: settings.captureContent,
      redact: createRedactor(
        Object.values(config.providers).flatMap((p) => (p?.api_key ? [p.api_key] : [])),
      ),
      legacyNames: !latestGenAiOnly(config.env),
      isRunning: async (runId) => {
        const lease = await store.getLease(runId);
        return lease !== undefined && leaseIsLive(lease);
      },
    });
  } finally {
    await store.close();
  }
  const { otlpJson, spanExporter, telemetryResource } = await import(
    '../../telemetry/otlp-spans.ts'
  );
  const resource = telemetryResource(settings);
  const what = `${trace.spans.length} span${trace.spans.length === 1 ? '' : 's'} of ${trace.runs.length === 1 ? `run ${trace.runs[0]}` : `${trace.runs.length} runs`}, trace ${trace.traceId}`;
  if (flags.output) {
    writeFileSync(flags.output, `${otlpJson(trace.spans, resource)}\n`);
    process.stderr.write(`${paint('dim', `wrote ${what} to ${flags.output}`)}\n`);
    return 0;
  }
  const { SpanQueue } = await import('../../telemetry/span-queue.ts');
  const queue = new SpanQueue({
    exporter: await spanExporter(settings),
    resource,
    endpoint: settings.tracesEndpoint,
    maxQueueSize: Math.max(settings.maxQueueSize, trace.spans.length),
    maxExportBatchSize: settings.maxExportBatchSize,
    scheduleDelayMs: 0,
  });
  queue.push(trace.spans);
  await queue.flush(settings.timeoutMs, unreachable(settings.tracesEndpoint));
  const lost = queue.report();
  if (lost) {
    throw new AgentdError(
      'telemetry_export_failed',
      `${lost.replace('; runs were not affected', '')}: check that the collector is up (OTEL_EXPORTER_OTLP_ENDPOINT or telemetry.endpoint)`,
    );
  }
  process.stderr.write(`${paint('dim', `exported ${what} to ${settings.tracesEndpoint}`)}\n`);
  return 0;
}
