import type { Store } from '../store/store.ts';
import { TeamBoard } from './board.ts';

/** A member of a team: the lead, or one teammate of a role. */
export interface TeamMember {
  /** Unique in the team: `lead`, the role's name, or `<role>-<n>` when a role has several. */
  name: string;
  role: string;
  /** What the role does, as the lead is told. */
  description?: string;
  lead: boolean;
}

/** What the member tools need from the process running the team. */
export interface TeamRuntime {
  /**
   * Resolves once the team has acted on the board as it stands (teammates started on what
   * they can take); true when no teammate is running and none can start: nothing more
   * happens until the lead acts.
   */
  settled(): Promise<boolean>;
  /** Aborted when the team stops (budget, cancellation, the lead finishing). */
  readonly stopSignal: AbortSignal;
}

/**
 * A team as its members' tools see it: its id, its board, who is in it, and (once it runs)
 * the runtime that starts teammates. Tools are made before the team runs (a policy set must
 * know them when an agent is prepared), so the runtime joins later.
 */
export class TeamSession {
  readonly teamId: string;
  readonly name: string;
  readonly board: TeamBoard;
  readonly members: readonly TeamMember[];
  runtime: TeamRuntime | undefined;

  constructor(options: {
    store: Store;
    teamId: string;
    name: string;
    members: readonly TeamMember[];
    now?: () => number;
  }) {
    this.teamId = options.teamId;
    this.name = options.name;
    this.members = options.members;
    this.board = new TeamBoard(options.store, options.teamId, options.now);
  }

  member(name: string): TeamMember | undefined {
    return this.members.find((m) => m.name === name);
  }

  /** Names a task may be assigned to: every member and every role. */
  assignable(): string[] {
    return [...new Set(this.members.flatMap((m) => [m.name, m.role]))];
  }

  /** The principal policies see for a member. */
  principal(member: string): string {
    return `${this.name}/${member}`;
  }
}
