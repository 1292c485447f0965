import type { JsonValue } from '../core/messages.ts';
import type { Tool, ToolContext } from '../tools/tool.ts';
import { originOf } from '../tools/tool-origin.ts';
import { type Authorizer, type Decision, permissiveAuthorizer } from './authorizer.ts';

/** What a runner may know of a tool without being able to run it. */
export type ToolInfo = Omit<Tool, 'execute'>;

/** Records a decision durably (audit log, run log) before the call it decides runs. */
export type DecisionRecorder = (
  decision: Decision,
  call: { id: string; name: string },
) => Promise<void>;

/** A call the gate let through: the only thing `execute` takes. Good for one execution. */
export interface Permit {
  readonly tool: string;
}

/** A call the gate is deciding, as a person asked to approve it sees it. */
export interface GateCall {
  id: string;
  name: string;
  /** The arguments as the model sent them. */
  input: unknown;
}

/** How asking a person ended: answered, or the wait stopped (the run was stopped). */
export type ApprovalResult =
  | {
      outcome: 'approved' | 'denied' | 'timed_out' | 'cancelled';
      approvalId: string;
      by: string;
      reason?: string;
    }
  /** The run stopped while waiting; the request stays open and the call is asked again on resume. */
  | { outcome: 'interrupted'; approvalId: string };

/**
 * Asks a person about calls the policies allow only with approval, and waits for the answer.
 * Without one, such a call is denied: nobody can be asked.
 */
export interface Approver {
  ask(decision: Decision, call: GateCall): Promise<ApprovalResult>;
  /**
   * The call was decided without needing approval: a request made for it earlier (before a
   * resume, under other policies) no longer applies. Called before the call may run.
   */
  release(call: GateCall, decision: Decision | undefined): Promise<void>;
}

export type Authorization =
  | { effect: 'allow'; permit: Permit; decision?: Decision; approval?: ApprovalResult }
  | { effect: 'deny'; decision: Decision; approval?: ApprovalResult };

/**
 * The one way to run a tool. Every call is authorized (by the run's policy set, or the
 * explicit no-policy mode) and its decision recorded before it may execute, and a tool runs
 * only against a permit the gate issued for that call: whatever the tool's source (an
 * in-process module, a built-in connector, an MCP server over stdio or HTTP, the registry
 * search), there is no other path from a model's call to a tool's code.
 */
export class ToolGate {
  readonly authorizer: Authorizer;
  readonly #tools: ReadonlyMap<string, Tool>;
  readonly #record: DecisionRecorder | undefined;
  readonly #approver: Approver | undefined;
  readonly #permits = new WeakMap<Permit, { tool: Tool; input: unknown }>();

  constructor(
    tools: readonly Tool[],
    authorizer: Authorizer = permissiveAuthorizer,
    record?: DecisionRecorder,
    approver?: Approver,
  ) {
    this.#tools = new Map(tools.map((tool) => [tool.name, tool]));
    this.authorizer = authorizer;
    this.#record = record;
    this.#approver = approver;
  }

  /** A tool by its model-facing name, without the means to run it. */
  tool(name: string): ToolInfo | undefined {
    return this.#tools.get(name);
  }

  get names(): string[] {
    return [...this.#tools.keys()];
  }

  /**
   * Decides a call with validated `input`; records the decision (when a policy set made one)
   * before returning; a permit comes only with `allow`, or with `needs_approval` once the
   * approver says a person approved. An authorizer, recorder or approver that fails denies
   * nothing silently: the error propagates and the call does not run.
   */
  async authorize(call: GateCall, input: unknown): Promise<Authorization> {
    const tool = this.#tools.get(call.name);
    if (!tool) throw new Error(`no tool "${call.name}" in this gate`);
    const decision = await this.authorizer.authorize({
      origin: originOf(tool),
      toolName: tool.name,
      input,
      rawInput: call.input,
    });
    if (decision) {
      if (!this.#record) throw new Error('a policy decision has nowhere to be recorded');
      await this.#record(decision, call);
      switch (decision.effect) {
        case 'deny':
          await this.#approver?.release(call, decision);
          return { effect: 'deny', decision };
        case 'needs_approval': {
          if (!this.#approver) {
            return {
              effect: 'deny',
              decision: {
                ...decision,
                reason: `${decision.reason}; nobody can be asked here, so the call is denied`,
              },
            };
          }
          const approval = await this.#approver.ask(decision, call);
          if (approval.outcome !== 'approved') return { effect: 'deny', decision, approval };
          return { effect: 'allow', permit: this.#permit(tool, input), decision, approval };
        }
        case 'allow':
          break;
        default:
          return decision.effect satisfies never;
      }
    }
    await this.#approver?.release(call, decision);
    return {
      effect: 'allow',
      permit: this.#permit(tool, input),
      ...(decision ? { decision } : {}),
    };
  }

  #permit(tool: Tool, input: unknown): Permit {
    const permit: Permit = Object.freeze({ tool: tool.name });
    this.#permits.set(permit, { tool, input });
    return permit;
  }

  /** Runs the call a permit was issued for, once. */
  execute(permit: Permit, context: ToolContext): Promise<JsonValue> {
    const granted = this.#permits.get(permit);
    if (!granted) {
      return Promise.reject(
        new Error('refused: this permit was not issued by this gate, or was used'),
      );
    }
    this.#permits.delete(permit);
    return granted.tool.execute(granted.input, context);
  }
}
