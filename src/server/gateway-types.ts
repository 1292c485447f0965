import type { Tool as McpTool } from '@modelcontextprotocol/server';
import type { Config } from '../config/config.ts';
import type { TokenClaims } from '../policy/authorizer.ts';
import type { Store } from '../store/store.ts';
import type { RunManager } from './run-manager.ts';

/*
 * The MCP gateway's vocabulary: who calls, what a call is, what the policy point answers,
 * and the tools the gateway lists.
 */

/** Who is calling through the gateway: an API key (or, later, a token's subject). */
export interface GatewayCaller {
  id: string;
  name: string;
  /** The caller's token claims, when it came with an OAuth token: `principal.claims`. */
  claims?: TokenClaims;
}

/** A call the gateway is about to forward (or, for its own tools, to run). */
export interface GatewayCall {
  caller: GatewayCaller;
  /** The registered server, or `agentd` for the gateway's own tools. */
  server: string;
  tool: string;
  transport: 'stdio' | 'http' | 'agentd';
  input: Record<string, unknown>;
}

export interface GatewayVerdict {
  allow: boolean;
  /** Why, for the caller when denied. */
  reason: string;
}

/** The policy point for gateway calls: decides and records (audit) before anything runs. */
export type GatewayAuthorize = (call: GatewayCall) => Promise<GatewayVerdict>;

export interface GatewayOptions {
  store: Store;
  config: Config;
  authorize: GatewayAuthorize;
  /** Runs the agents `agentd__launch_agent` starts; without it there is no launcher. */
  manager?: RunManager;
  version: string;
  log?: (line: string) => void;
}

export interface GatewayTool {
  /** The name callers see: `<server>__<tool>`, or the bare tool name for `prefix: false`. */
  name: string;
  server: string;
  tool: string;
  transport: GatewayCall['transport'];
  definition: McpTool;
}

/**
 * What the gateway decides besides tool calls, as tools of the server in the policy's terms:
 * `<server>.resources:read` (input: the URI), `<server>.prompts:get` (the prompt's name and
 * arguments), `<server>.completion:complete` (the reference and the argument).
 */
export const gatewayServerActions = [
  'resources:read',
  'prompts:get',
  'completion:complete',
] as const;
