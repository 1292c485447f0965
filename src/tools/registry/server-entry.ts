import { z } from 'zod';

/** How a registered server runs, and what it may reach. */
export const containmentSchema = z.strictObject({
  /** `auto`: bubblewrap where it is installed, none otherwise. */
  sandbox: z.enum(['auto', 'bubblewrap', 'none']),
  /** Network access inside the sandbox. */
  network: z.boolean(),
  /** Longest a single tool call may take. */
  callTimeoutMs: z.int().positive(),
  /** Most output a single tool call may return. */
  maxOutputBytes: z.int().positive(),
});

export type Containment = z.output<typeof containmentSchema>;

export const defaultContainment: Containment = {
  sandbox: 'auto',
  network: false,
  callTimeoutMs: 60_000,
  maxOutputBytes: 1_000_000,
};

export const serverNamePattern = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** A registered MCP server as the registry keeps it: everything but secret values. */
export const serverEntrySchema = z.strictObject({
  name: z.string().regex(serverNamePattern),
  title: z.string().optional(),
  description: z.string().optional(),
  version: z.string().optional(),
  /** Where the entry came from. */
  source: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('server.json'), name: z.string(), file: z.string() }),
    z.strictObject({ kind: z.literal('npm'), package: z.string(), version: z.string().optional() }),
    z.strictObject({ kind: z.literal('command') }),
    z.strictObject({ kind: z.literal('url') }),
  ]),
  transport: z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('stdio'), command: z.string(), args: z.array(z.string()) }),
    z.strictObject({ type: z.literal('http'), url: z.string() }),
  ]),
  /** Environment variables (stdio) or headers (http) that are not secret. */
  env: z.record(z.string(), z.string()),
  headers: z.record(z.string(), z.string()),
  /** Names of the secrets the server gets (values are stored encrypted, apart). */
  secrets: z.array(z.string()),
  /** Secrets given as HTTP headers rather than environment variables. */
  secretHeaders: z.array(z.string()),
  /** Folders the server may work in (passed as roots, and bound into its sandbox). */
  roots: z.array(z.string()),
  containment: containmentSchema,
  enabled: z.boolean(),
  /** How `agentd serve`'s MCP gateway offers the server: `prefix: false` drops `<name>__`. */
  gateway: z.strictObject({ prefix: z.boolean() }).optional(),
});

export type ServerEntry = z.output<typeof serverEntrySchema>;

/** One line about how the server runs, for `mcp list` and `mcp show`. */
export function describeTransport(entry: ServerEntry): string {
  return entry.transport.type === 'stdio'
    ? `stdio: ${[entry.transport.command, ...entry.transport.args].join(' ')}`
    : `http: ${entry.transport.url}`;
}
