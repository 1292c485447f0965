import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { loadConfig } from '../../config/config.ts';
import { verifyAudit } from '../../core/audit.ts';
import { AgentdError } from '../../core/errors.ts';
import { openStore } from '../../store/open-store.ts';
import type { Store } from '../../store/store.ts';
import { clip, paint, table } from '../format.ts';

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const store = openStore(loadConfig());
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** `agentd audit list`: the latest decisions, newest first. */
export async function auditListCommand(options: {
  run?: string;
  limit?: number;
  json?: boolean;
}): Promise<number> {
  const records = await withStore(async (store) => {
    const runId = options.run ? ((await store.getRun(options.run))?.id ?? options.run) : undefined;
    return store.listAudit({
      newestFirst: true,
      limit: options.limit ?? 50,
      ...(runId ? { runId } : {}),
    });
  });
  if (options.json) {
    for (const record of records) process.stdout.write(`${JSON.stringify(record)}\n`);
    return 0;
  }
  if (records.length === 0) {
    process.stdout.write(
      'no policy decisions recorded yet (runs without a policy set record none)\n',
    );
    return 0;
  }
  const rows = records.map((r) => [
    String(r.seq),
    r.at.replace('T', ' ').slice(0, 19),
    r.runId ?? '-',
    r.action,
    clip(r.resource, 40),
    r.mode === 'log_only' && r.decision === 'deny' ? 'deny (log only)' : r.decision,
    clip(r.policies.join(', ') || '-', 30),
    String(r.latencyUs),
  ]);
  process.stdout.write(
    `${table(['#', 'AT (UTC)', 'RUN', 'ACTION', 'RESOURCE', 'DECISION', 'POLICIES', 'µs'], rows)}\n`,
  );
  return 0;
}

/** `agentd audit verify`: walks the chain; exits 1 at the first entry that breaks it. */
export async function auditVerifyCommand(options: { anchor?: string }): Promise<number> {
  let anchor: { seq: number; hash: string } | undefined;
  if (options.anchor) {
    const match = /^(\d+):([0-9a-f]{64})$/.exec(options.anchor);
    if (!match) {
      throw new AgentdError(
        'usage',
        `--anchor: "${options.anchor}" is not <seq>:<sha-256 hex> (as audit verify printed it)`,
      );
    }
    anchor = { seq: Number(match[1]), hash: match[2]! };
  }
  const result = await withStore(async (store) =>
    verifyAudit(await store.listAudit(), await store.auditHead(), anchor),
  );
  if (!result.ok) {
    process.stdout.write(`${paint('red', 'broken:')} ${result.problem}\n`);
    process.stderr.write(
      `the audit log does not verify at entry #${result.seq} (${result.entries} entries read)\n`,
    );
    return 1;
  }
  if (!result.head) {
    process.stdout.write('ok: the audit log is empty\n');
    return 0;
  }
  process.stdout.write(
    `${paint('green', 'ok:')} ${result.entries} entries, chain intact; head ${result.head.seq}:${result.head.hash}\n`,
  );
  process.stderr.write(
    paint('dim', 'keep the head somewhere else; --anchor <seq>:<hash> checks it later\n'),
  );
  return 0;
}

/** `agentd audit export`: every entry as a JSON line, chain fields included. */
export async function auditExportCommand(options: {
  output?: string;
  run?: string;
}): Promise<number> {
  const records = await withStore(async (store) => {
    const runId = options.run ? ((await store.getRun(options.run))?.id ?? options.run) : undefined;
    return store.listAudit(runId ? { runId } : {});
  });
  const out = options.output ? createWriteStream(options.output) : process.stdout;
  for (const record of records) {
    if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
  }
  if (options.output) {
    out.end();
    await once(out, 'finish');
    process.stderr.write(`wrote ${records.length} audit entries to ${options.output}\n`);
  }
  return 0;
}
