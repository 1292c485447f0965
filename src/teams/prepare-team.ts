import { errorMessage } from '../core/errors.ts';
import type { Redactor } from '../core/redact.ts';
import { type PreparedAgent, prepareAgentSpec } from '../runtime/prepare-agent.ts';
import type { TeamMember, TeamSession } from './session.ts';
import type { TeamMemberSetup, TeamSetup } from './team-run-options.ts';
import type { TeamRole, TeamSpec } from './team-spec.ts';
import { teamTools } from './tools.ts';
import { GitWorkspaces } from './workspace.ts';

/** The members a team file describes: the lead, then each role's teammates. */
export function teamRoster(spec: TeamSpec): TeamMember[] {
  const of = (role: TeamRole, lead: boolean): TeamMember[] =>
    role.members.map((name) => ({
      name,
      role: role.role,
      lead,
      ...(role.description ? { description: role.description } : {}),
    }));
  return [...of(spec.lead, true), ...spec.teammates.flatMap((role) => of(role, false))];
}

export interface PreparedTeam {
  setup: TeamSetup;
  /** Redacts every member's secrets (provider keys, servers' secrets). */
  redact: Redactor;
  /** Stops the MCP servers the members' tools started. */
  close(): Promise<void>;
}

/**
 * Every member of a team ready to run: its agent from its spec with the team file's changes
 * (model, effort, limits, instructions), the team's tools for it, and its own policy principal
 * `Agent::"<team>/<member>"` under the team's policy set (or its spec's own, without one).
 */
export async function prepareTeam(
  spec: TeamSpec,
  session: TeamSession,
  options: { cwd?: string; onNotice?: (notice: string) => void } = {},
): Promise<PreparedTeam> {
  const prepared: PreparedAgent[] = [];
  const members: TeamMemberSetup[] = [];
  const seen = new Set<string>();
  const notice = (member: string) => (text: string) => {
    if (seen.has(text)) return;
    seen.add(text);
    options.onNotice?.(`${member}: ${text}`);
  };
  const close = async () => {
    await Promise.all(prepared.map((p) => p.toolset.close()));
  };
  // Teammates with workspace: git-clone work in clones of the lead's repository.
  const cloned = new Set(
    spec.teammates.filter((r) => r.workspace === 'git-clone').flatMap((r) => r.members),
  );
  const workspaces = cloned.size
    ? new GitWorkspaces(spec.lead.spec.workdir ?? options.cwd ?? process.cwd(), spec.name)
    : undefined;
  try {
    for (const [role, lead] of [
      [spec.lead, true],
      ...spec.teammates.map((r) => [r, false] as const),
    ] as const) {
      for (const name of role.members) {
        const member: TeamMember = {
          name,
          role: role.role,
          lead,
          ...(role.description ? { description: role.description } : {}),
        };
        const agent = await prepareAgentSpec(
          structuredClone(role.spec),
          {
            ...(role.model ? { model: role.model } : {}),
            ...(role.effort ? { effort: role.effort } : {}),
            limits: role.limits,
          },
          {
            ...(options.cwd ? { cwd: options.cwd } : {}),
            ...(workspaces && cloned.has(name) ? { workdir: workspaces.folder(name) } : {}),
            onNotice: notice(name),
            extraTools: teamTools(session, member),
            principal: session.principal(name),
            ...(spec.policy ? { policy: spec.policy } : {}),
          },
        );
        prepared.push(agent);
        if (role.instructions) {
          agent.agent.instructions =
            `${agent.agent.instructions.trim()}\n\n${role.instructions.trim()}`.trim();
        }
        members.push({
          ...member,
          agent: agent.agent,
          ...(agent.resolved.scripted ? { scripted: agent.resolved.scripted } : {}),
        });
      }
    }
  } catch (error) {
    await close();
    throw error;
  }
  const redactors = prepared.map((p) => p.redact);
  return {
    setup: {
      name: spec.name,
      lead: members[0]!,
      teammates: members.slice(1),
      maxRunning: spec.maxRunning,
      budget: spec.budget,
      ...(workspaces
        ? {
            workspaces: {
              beforeTask: async (member, task) => {
                if (cloned.has(member)) await workspaces.beforeTask(member, task);
              },
              afterRun: async (member) => {
                if (!cloned.has(member)) return;
                // The step's commits stay in the member's clone; the terminal says why they did not come back.
                await workspaces.afterRun(member).catch((error: unknown) => {
                  options.onNotice?.(
                    `${member}: its step branches did not come back into ${workspaces.repository}: ${errorMessage(error)}`,
                  );
                });
              },
            },
          }
        : {}),
    },
    redact: (text) => redactors.reduce((out, redact) => redact(out), text),
    close,
  };
}
