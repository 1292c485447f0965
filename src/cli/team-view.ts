import type { RunEvent } from '../core/events.ts';
import { resultText } from '../core/messages.ts';
import type { Redactor } from '../core/redact.ts';
import type { TeamEvent, TeamStatus, TeamTask } from '../store/team-store.ts';
import type { TeamUsage } from '../teams/budget.ts';
import { clip, formatCost, formatDuration, formatInt, paint, table } from './format.ts';

export interface TeamView {
  onTeamEvent(event: TeamEvent): void;
  onRunEvent(member: string, event: RunEvent): void;
}

const statusMarks: Record<string, string> = {
  pending: '·',
  claimed: '◦',
  in_progress: '▸',
  blocked: '‖',
  done: '✓',
  failed: '✗',
};

function taskStyle(status: string): Parameters<typeof paint>[0] {
  switch (status) {
    case 'done':
      return 'green';
    case 'failed':
      return 'red';
    case 'blocked':
      return 'magenta';
    case 'in_progress':
    case 'claimed':
      return 'cyan';
    default:
      return 'dim';
  }
}

export function teamStatusStyle(status: TeamStatus): Parameters<typeof paint>[0] {
  switch (status) {
    case 'completed':
      return 'green';
    case 'running':
      return 'cyan';
    case 'budget_exceeded':
    case 'cancelled':
      return 'yellow';
    case 'needs_attention':
      return 'magenta';
    case 'failed':
      return 'red';
  }
}

/**
 * A team in a terminal: the board as it changes (tasks, owners, states) and the members'
 * activity on stderr, prefixed by member. With `json`, every entry of the team's log and every
 * event of every member's runs as JSON lines on stdout.
 */
export function createTeamView(options: { json: boolean; redact: Redactor }): TeamView {
  const err = process.stderr;
  const out = process.stdout;
  if (options.json) {
    return {
      onTeamEvent: (event) => out.write(`${options.redact(JSON.stringify({ team: event }))}\n`),
      onRunEvent: (member, event) =>
        out.write(`${options.redact(JSON.stringify({ member, event }))}\n`),
    };
  }
  const board = new Map<string, { status: string; owner?: string; title: string }>();
  const who = (member: string) => paint('blue', `[${member}]`);
  const boardLine = () => {
    const counts = new Map<string, number>();
    for (const t of board.values()) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
    const working = [...board.entries()]
      .filter(([, t]) => t.status === 'in_progress' || t.status === 'claimed')
      .map(([id, t]) => `${id}:${t.owner ?? '?'}`);
    return paint(
      'dim',
      `  board: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}${working.length ? ` · working: ${working.join(' ')}` : ''}\n`,
    );
  };
  return {
    onTeamEvent(event) {
      const d = event.data as Record<string, unknown>;
      switch (event.type) {
        case 'team.started': {
          const members = (d.members as { name: string; model: string }[]) ?? [];
          err.write(
            paint('dim', `agentd · team ${String(d.name)} · ${event.teamId}\n`) +
              paint(
                'dim',
                `  ${members.map((m) => `${m.name} (${m.model})`).join(', ')} · at most ${String(d.maxRunning)} teammates at once\n`,
              ),
          );
          break;
        }
        case 'team.resumed':
          err.write(
            paint(
              'dim',
              `agentd · resuming team ${event.teamId} (session ${Number(d.session) + 1})\n`,
            ),
          );
          break;
        case 'task.created': {
          board.set(String(d.id), { status: 'pending', title: String(d.title) });
          const deps = (d.dependsOn as string[]) ?? [];
          err.write(
            `${paint('dim', '+')} ${String(d.id)} ${clip(String(d.title), 70)}${deps.length ? paint('dim', ` after ${deps.join(', ')}`) : ''}${d.assignee ? paint('dim', ` for ${String(d.assignee)}`) : ''}\n`,
          );
          break;
        }
        case 'task.changed': {
          const id = String(d.id);
          const status = String(d.status);
          const entry = board.get(id) ?? { status, title: id };
          entry.status = status;
          if (typeof d.owner === 'string') entry.owner = d.owner;
          else if (status === 'pending') delete entry.owner;
          board.set(id, entry);
          const detail =
            status === 'done' || status === 'failed' || status === 'blocked'
              ? typeof d.result === 'string'
                ? `: ${clip(d.result, 100)}`
                : ''
              : '';
          err.write(
            `${paint(taskStyle(status), `${statusMarks[status] ?? '?'} ${id} ${status}`)}${entry.owner ? ` · ${entry.owner}` : ''}${paint('dim', detail)}\n`,
          );
          err.write(boardLine());
          break;
        }
        case 'message': {
          const text = `✉ ${String(d.from)} → ${String(d.to)}: ${clip(String(d.text), 140)}\n`;
          err.write(d.auto ? paint('dim', text) : paint('yellow', text));
          break;
        }
        case 'member.started':
          err.write(
            `${who(String(d.member))} ${paint('dim', `${d.resumed ? 'resumes' : 'starts'} ${d.taskId ? `on ${String(d.taskId)} ` : ''}(run ${String(d.runId)})`)}\n`,
          );
          break;
        case 'member.finished':
          err.write(`${who(String(d.member))} ${paint('dim', `${String(d.status)}`)}\n`);
          break;
        case 'team.finished':
          break;
      }
    },
    onRunEvent(member, event) {
      switch (event.type) {
        case 'tool.call':
          if (event.data.name.startsWith('team__')) return;
          err.write(
            `${who(member)} ${paint('cyan', `→ ${event.data.name}`)}${paint('dim', ` ${clip(JSON.stringify(event.data.input), 80)}`)}\n`,
          );
          break;
        case 'tool.result':
          if (event.data.isError && !event.data.name.startsWith('team__')) {
            err.write(
              `${who(member)} ${paint('red', `✗ ${event.data.name}`)} ${paint('dim', clip(resultText(event.data.output), 100))}\n`,
            );
          }
          break;
        case 'policy.decision':
          if (event.data.decision === 'deny') {
            err.write(
              `${who(member)} ${paint('red', `⛔ policy ${event.data.effect === 'deny' ? 'denied' : 'would deny'} ${event.data.action}`)} ${paint('dim', `(${event.data.principal}): ${clip(event.data.reason, 120)}`)}\n`,
            );
          }
          break;
        case 'budget.warning':
          err.write(`${who(member)} ${paint('yellow', `! ${event.data.budget} budget at 80%`)}\n`);
          break;
        case 'run.error':
          err.write(`${who(member)} ${paint('red', 'error:')} ${event.data.message}\n`);
          break;
        case 'run.finished':
          err.write(
            `${who(member)} ${paint(event.data.status === 'completed' ? 'green' : 'yellow', event.data.status === 'completed' ? '✓ done' : `✗ ${event.data.status} (${event.data.reason})`)}${paint('dim', ` · ${formatInt(event.data.turns)} turns · ${formatDuration(event.data.durationMs)}`)}\n`,
          );
          break;
        default:
          break;
      }
    },
  };
}

/** The board as a table. */
export function boardTable(tasks: readonly TeamTask[], resultChars = 60): string {
  if (tasks.length === 0) return '(no tasks)';
  return table(
    ['task', 'status', 'owner', 'after', 'title', 'result'],
    tasks.map((t) => [
      t.id,
      t.status,
      t.owner ?? (t.assignee ? `(${t.assignee})` : '-'),
      t.dependsOn.join(',') || '-',
      clip(t.title, 40),
      t.result ? clip(t.result, resultChars) : '',
    ]),
  );
}

export function usageLine(usage: TeamUsage): string {
  return [
    `${formatInt(usage.turns)} turns`,
    `${formatInt(usage.tokens)} tokens`,
    usage.costKnown ? formatCost(usage.costUsd) : 'cost unknown',
    formatDuration(usage.activeMs),
  ].join(' · ');
}
