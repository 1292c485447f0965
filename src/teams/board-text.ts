import type { TaskStatus, TeamMessage, TeamTask } from '../store/team-store.ts';

/** Clips text to one paragraph of at most `max` characters. */
export function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A task as one line for a model (and people): id, status, title, who, what came of it. */
export function taskLine(task: TeamTask, resultChars = 300): string {
  const parts = [`${task.id} [${task.status}] ${task.title}`];
  if (task.dependsOn.length) parts.push(`after ${task.dependsOn.join(', ')}`);
  if (task.owner) parts.push(`owner ${task.owner}`);
  else if (task.assignee) parts.push(`for ${task.assignee}`);
  let line = parts.join(' · ');
  if (task.result)
    line += ` — ${task.status === 'done' ? 'result' : 'why'}: ${clip(task.result, resultChars)}`;
  return line;
}

export function boardText(tasks: readonly TeamTask[], resultChars = 300): string {
  if (tasks.length === 0) return 'The board is empty: no tasks yet.';
  const counts = new Map<TaskStatus, number>();
  for (const t of tasks) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
  const summary = [...counts].map(([status, n]) => `${n} ${status}`).join(', ');
  return `Board (${summary}):\n${tasks.map((t) => `- ${taskLine(t, resultChars)}`).join('\n')}`;
}

/** Messages as lines: who from, to all or not, and the text. */
export function messagesText(messages: readonly TeamMessage[]): string {
  return messages
    .map((m) => `- from ${m.from}${m.to === 'all' ? ' (to all)' : ''}: ${m.text}`)
    .join('\n');
}

/** What a member needs to work on a task: the task, and the results of what it depends on. */
export function taskBrief(task: TeamTask, board: readonly TeamTask[]): string {
  const byId = new Map(board.map((t) => [t.id, t]));
  const lines = [`Task ${task.id}: ${task.title}`];
  if (task.description) lines.push(task.description);
  const deps = task.dependsOn.map((id) => byId.get(id)).filter((t): t is TeamTask => !!t);
  if (deps.length) {
    lines.push('', 'Results of the tasks it depends on:');
    for (const dep of deps) lines.push(`- ${dep.id} ${dep.title}: ${dep.result ?? '(no result)'}`);
  }
  return lines.join('\n');
}
