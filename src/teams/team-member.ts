import { leadInstructions, teammateInstructions, withTeamInstructions } from './instructions.ts';
import type { TeamMember, TeamSession } from './session.ts';
import type { TeamMemberSetup, TeamSetup } from './team-run-options.ts';
import { teamTools } from './tools.ts';

/** The team's members as its session knows them: names, roles, who leads. */
export function teamRoster(team: TeamSetup): TeamMember[] {
  return [team.lead, ...team.teammates].map((m) => ({
    name: m.name,
    role: m.role,
    lead: m.lead,
    ...(m.description ? { description: m.description } : {}),
  }));
}

/**
 * A member as its team runs it: its agent given the team tools (unless it has them already)
 * and the instructions of its place in the team, the lead's or a teammate's.
 */
export function teamMember(
  session: TeamSession,
  team: TeamSetup,
  m: TeamMemberSetup,
): TeamMemberSetup {
  const teammates = team.teammates.filter((t) => !t.lead);
  const tools = m.agent.tools.some((t) => t.name === 'team__task_list')
    ? m.agent.tools
    : [...m.agent.tools, ...teamTools(session, m)];
  const preamble = m.lead
    ? leadInstructions(team.name, teammates, team.maxRunning)
    : teammateInstructions(team.name, m);
  return {
    ...m,
    agent: {
      ...m.agent,
      tools,
      instructions: withTeamInstructions(m.agent.instructions, preamble),
    },
  };
}
