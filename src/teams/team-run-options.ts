import type { RunEvent } from '../core/events.ts';
import type { RetryPolicy } from '../models/retry.ts';
import type { AgentDefinition, LiveUpdate } from '../runtime/agent-loop.ts';
import type { Store } from '../store/store.ts';
import type { TeamBudget, TeamEvent, TeamStatus, TeamTask } from '../store/team-store.ts';
import type { TeamUsage } from './budget.ts';
import type { TeamMember, TeamSession } from './session.ts';

/*
 * What a team run is given and what it returns: the members and their agents, the team's
 * limits, the workspace hooks, the start and resume options, and the result.
 */

/** A member ready to run: who it is and its agent (team tools are added when missing). */
export interface TeamMemberSetup extends TeamMember {
  agent: AgentDefinition;
  /** Set when the model is a scripted replay, so its runs say so. */
  scripted?: { script: string };
}

export interface TeamSetup {
  name: string;
  lead: TeamMemberSetup;
  teammates: TeamMemberSetup[];
  /** Teammates running at once (the lead does not count). */
  maxRunning: number;
  budget: TeamBudget;
  /** Members that work in folders of their own, prepared before each task (`workspace.ts`). */
  workspaces?: TeamWorkspaces;
}

/** Called around the tasks of members with a workspace of their own. */
export interface TeamWorkspaces {
  /** Before a member's run starts on a task (not when a run resumes). */
  beforeTask(member: string, task: TeamTask): void | Promise<void>;
  /** When a member's run ended, before its tasks are settled. */
  afterRun(member: string): void | Promise<void>;
}

export interface TeamRunBase {
  store: Store;
  team: TeamSetup;
  /** The session the members' tools were made for; one is made when not given. */
  session?: TeamSession;
  /** Aborting it stops the team cleanly: every run is suspended between steps, resumable. */
  signal?: AbortSignal;
  /** Every durable event of every member's runs, with the member's name. */
  onRunEvent?: (member: string, event: RunEvent) => void;
  onLive?: (member: string, update: LiveUpdate) => void;
  /** Every entry of the team's log this process writes. */
  onTeamEvent?: (event: TeamEvent) => void;
  now?: () => number;
  retryPolicy?: RetryPolicy;
}

export interface StartTeamOptions extends TeamRunBase {
  task: string;
  teamId?: string;
  /** The team.yaml it came from (resume reads it again). */
  specPath?: string;
  /** The folder the team works in (default: this process's). */
  cwd?: string;
}

export interface ResumeTeamOptions extends TeamRunBase {
  teamId: string;
  /** The team budget from here on (merged over the recorded one). */
  budget?: TeamBudget;
  /** A person's decision for tool calls a crash left in doubt, for every member's runs. */
  inDoubt?: 'rerun' | 'skip';
}

export interface TeamResult {
  teamId: string;
  status: TeamStatus;
  /** The lead's final answer, when the team completed. */
  result?: string;
  detail?: string;
  tasks: TeamTask[];
  usage: TeamUsage;
}
