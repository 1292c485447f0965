import { loadConfig } from '../../config/config.ts';
import {
  type ApprovalRecord,
  type ApprovalStatus,
  describeAnswer,
  statedIntent,
} from '../../core/approval.ts';
import { AgentdError } from '../../core/errors.ts';
import { runUser } from '../../policy/load.ts';
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

/** `agentd approvals list`: requests waiting for an answer (all of them with --all). */
export async function approvalsListCommand(options: {
  all?: boolean;
  run?: string;
  limit?: number;
  json?: boolean;
}): Promise<number> {
  const records = await withStore(async (store) => {
    const runId = options.run ? ((await store.getRun(options.run))?.id ?? options.run) : undefined;
    return store.listApprovals({
      limit: options.limit ?? 50,
      ...(options.all ? {} : { status: 'pending' as const }),
      ...(runId ? { runId } : {}),
    });
  });
  if (options.json) {
    for (const record of records) process.stdout.write(`${JSON.stringify(record)}\n`);
    return 0;
  }
  if (records.length === 0) {
    process.stdout.write(
      options.all
        ? 'no approvals asked yet\n'
        : 'nothing waits for approval (agentd approvals list --all shows answered ones)\n',
    );
    return 0;
  }
  const rows = records.map((r) => [
    r.id,
    r.runId,
    r.agent,
    r.action,
    clip(r.resource, 36),
    clip(JSON.stringify(r.input), 48),
    r.status === 'pending' ? `pending until ${shortTime(r.expiresAt)}` : statusText(r),
  ]);
  process.stdout.write(
    `${table(['APPROVAL', 'RUN', 'AGENT', 'ACTION', 'RESOURCE', 'ARGUMENTS', 'STATUS (UTC)'], rows)}\n`,
  );
  // A change that says what it is for (the shell connector's reason and expected_effect): in full.
  for (const r of records) {
    const intent = statedIntent(r.input);
    if (r.status !== 'pending' || intent.length === 0) continue;
    process.stdout.write(
      `\n${r.id}\n${intent.map((line) => `  ${line.label}: ${line.text}`).join('\n')}\n`,
    );
  }
  if (records.some((r) => r.status === 'pending')) {
    process.stderr.write(
      paint(
        'dim',
        'answer: agentd approvals approve <id> | agentd approvals deny <id> --reason "..."\n',
      ),
    );
  }
  return 0;
}

/** `agentd approvals approve <id>` and `agentd approvals deny <id> --reason "..."`. */
export async function approvalsAnswerCommand(
  id: string,
  answer: 'approved' | 'denied',
  options: { reason?: string },
): Promise<number> {
  const reason = options.reason?.trim();
  if (answer === 'denied' && !reason) {
    throw new AgentdError(
      'usage',
      `agentd approvals deny ${id}: --reason "..." is required (the agent is told who denied the call and why)`,
    );
  }
  const config = loadConfig();
  const by = runUser(config.env);
  return withStore(async (store) => {
    const found = await store.getApproval(id);
    if (!found) {
      throw new AgentdError(
        'usage',
        `no approval "${id}" (or the prefix matches several): see agentd approvals list`,
      );
    }
    const result = await store.answerApproval(found.id, {
      status: answer,
      by,
      ...(reason ? { reason } : {}),
      at: new Date().toISOString(),
    });
    if (!result) throw new AgentdError('usage', `no approval "${id}": see agentd approvals list`);
    const record = result.record;
    if (!result.answered) {
      process.stderr.write(`${paint('red', 'agentd:')} ${closedLine(record)}\n`);
      return 1;
    }
    process.stdout.write(
      `${paint(answer === 'approved' ? 'green' : 'red', `${answer}:`)} ${record.id} · ${record.action} on ${clip(record.resource, 60)} · run ${record.runId} (${record.agent}) · audit #${record.answerAuditSeq}\n`,
    );
    process.stderr.write(
      paint(
        'dim',
        answer === 'approved'
          ? 'the run goes on with the call (if it is not running now, when it is resumed)\n'
          : 'the agent is told the call was denied, by whom and why\n',
      ),
    );
    return 0;
  });
}

/** Why an answer changed nothing: the request was closed before it came. */
export function closedLine(record: ApprovalRecord): string {
  if (record.status === 'timed_out') {
    return `approval ${record.id} expired at ${record.expiresAt} (nobody answered in time): the call was denied; nothing changed`;
  }
  return `approval ${record.id} was already ${statusText(record)}; nothing changed`;
}

function statusText(record: ApprovalRecord): string {
  const status = record.status as Exclude<ApprovalStatus, 'pending'>;
  const when = record.answeredAt ? ` at ${shortTime(record.answeredAt)}` : '';
  return `${describeAnswer({
    status,
    by: record.answeredBy ?? 'agentd',
    ...(record.answerReason ? { reason: record.answerReason } : {}),
  })}${when}`;
}

function shortTime(iso: string): string {
  return iso.replace('T', ' ').slice(0, 19);
}
