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

export type Authorization =
  | { effect: 'allow'; permit: Permit; decision?: Decision }
  | { effect: 'deny'; decision: Decision };

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
  readonly #permits = new WeakMap<Permit, { tool: Tool; input: unknown }>();

  constructor(
    tools: readonly Tool[],
    authorizer: Authorizer = permissiveAuthorizer,
    record?: DecisionRecorder,
  ) {
    this.#tools = new Map(tools.map((tool) => [tool.name, tool]));
    this.authorizer = authorizer;
    this.#record = record;
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
   * before returning; a permit comes only with `allow`. An authorizer or recorder that fails
   * denies nothing silently: the error propagates and the call does not run.
   */
  async authorize(
    call: { id: string; name: string; input: unknown },
    input: unknown,
  ): Promise<Authorization> {
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
          return { effect: 'deny', decision };
        case 'allow':
          break;
        default:
          return decision.effect satisfies never;
      }
    }
    const permit: Permit = Object.freeze({ tool: tool.name });
    this.#permits.set(permit, { tool, input });
    return { effect: 'allow', permit, ...(decision ? { decision } : {}) };
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
