import type { AuthProvider, OAuthClientProvider, Transport } from '@modelcontextprotocol/client';

/** A folder (or file) a contained stdio server may see. */
export interface ContainedPath {
  /** Absolute path; it is visible at the same path inside the sandbox. */
  path: string;
  writable: boolean;
}

/** What a stdio server may reach and how long and how much it may take. */
export interface StdioContainment {
  /**
   * `bubblewrap`: always sandboxed, and the server does not start when `bwrap` is missing.
   * `auto`: sandboxed where `bwrap` is installed, otherwise run with the other limits only.
   * `none`: no sandbox; the environment, working directory and limits still apply.
   */
  sandbox: 'none' | 'bubblewrap' | 'auto';
  /** Network inside the sandbox (without a sandbox nothing stops it). */
  network: boolean;
  /** Paths the sandboxed server sees besides its working directory and the system's read-only dirs. */
  paths: readonly ContainedPath[];
  /** Longest a single call (tool, resource, prompt) may take. */
  callTimeoutMs: number;
  /** Largest single message the server may send; a bigger one fails the call and restarts it. */
  maxOutputBytes: number;
}

export interface StdioServerConfig {
  transport: 'stdio';
  /** The executable: an absolute path, or a name looked up on the server's PATH. */
  command: string;
  args: readonly string[];
  /**
   * The whole environment the server gets (its declared variables, secrets included), plus
   * PATH when it declares none. Nothing else from agentd's environment reaches it.
   */
  env: Readonly<Record<string, string>>;
  /** The server's own working directory; created if missing, writable inside the sandbox. */
  cwd: string;
  containment: StdioContainment;
}

export interface HttpServerConfig {
  transport: 'http';
  /** The streamable HTTP endpoint, e.g. `https://example.com/mcp`. */
  url: string;
  headers: Readonly<Record<string, string>>;
  /** OAuth or bearer-token authentication, as the SDK takes it. */
  auth?: AuthProvider | OAuthClientProvider;
  /**
   * For OAuth that needs the user: after the provider sent them to authorize
   * (`redirectToAuthorization`), resolves with the query of the redirect back (`code`, and
   * `iss` where the server sends it). The connection then finishes the authorization and
   * connects again, once.
   */
  authorizationCallback?: () => Promise<URLSearchParams>;
  /** Longest a single call may take (default 60 s). */
  callTimeoutMs?: number;
}

/** A server in the same process (agentd's built-in connectors): connect returns a fresh transport. */
export interface InMemoryServerConfig {
  transport: 'in-memory';
  connect: () => Promise<Transport>;
  callTimeoutMs?: number;
}

/** How to reach an MCP server. */
export type McpServerConfig = StdioServerConfig | HttpServerConfig | InMemoryServerConfig;

export const defaultStdioContainment: StdioContainment = {
  sandbox: 'auto',
  network: false,
  paths: [],
  callTimeoutMs: 60_000,
  maxOutputBytes: 1_000_000,
};

export const defaultCallTimeoutMs = 60_000;

/** The per-call time limit that applies to a server. */
export function callTimeoutOf(config: McpServerConfig): number {
  return config.transport === 'stdio'
    ? config.containment.callTimeoutMs
    : (config.callTimeoutMs ?? defaultCallTimeoutMs);
}
