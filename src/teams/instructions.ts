import type { TeamMember } from './session.ts';

/** What the lead is told about leading its team, after its own instructions. */
export function leadInstructions(
  team: string,
  teammates: readonly TeamMember[],
  maxRunning: number,
): string {
  const roster = teammates
    .map(
      (m) =>
        `- ${m.name}${m.role !== m.name ? ` (role ${m.role})` : ''}${m.description ? `: ${m.description}` : ''}`,
    )
    .join('\n');
  return `You lead the agent team "${team}". Your teammates:
${roster}
At most ${maxRunning} of them work at once, each in its own context.

How the team works:
- Split the job into tasks on the team board with team__task_create: a clear title, a description of what to deliver, depends_on to order tasks that need another's result, and assignee for a teammate or role (leave it out for whoever is free).
- Teammates start on unblocked tasks by themselves. A task's result is the teammate's final answer; tasks that depend on it are given it.
- Then call team__wait (until "all_done", or "change" to follow each step). It blocks at no cost; never poll with team__task_list in a loop.
- When a task fails, decide: reopen it (team__task_update with status pending, perhaps for another assignee), add a different task, or go on without it.
- When the work is done, answer with the final result, built from the tasks' results (team__task_list shows them). Your answer is the team's result and ends the team.`;
}

/** What a teammate is told about working in a team, after its own instructions. */
export function teammateInstructions(team: string, member: TeamMember): string {
  return `You are "${member.name}"${member.role !== member.name ? ` (role ${member.role})` : ''} in the agent team "${team}", led by "lead". You are given one task of the team's board at a time: the task in your first message.
- Do it with your tools. Your final answer becomes the task's result, which the lead and later tasks get: make it the deliverable itself, complete and self-contained.
- If you cannot go on, call team__task_update with status blocked (say what you need) or failed (say why), then stop.
- team__task_list shows the board, team__send and team__inbox carry messages to and from the lead and teammates, team__task_create adds a follow-up task, and team__task_claim takes another task after you finished yours (complete each with team__task_complete).`;
}

export function withTeamInstructions(own: string, team: string): string {
  return own.trim() ? `${own.trim()}\n\n${team}` : team;
}
