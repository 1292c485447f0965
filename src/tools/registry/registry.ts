import type { SecretBox } from '../../config/secret-box.ts';
import { AgentdError } from '../../core/errors.ts';
import type { Store, ToolRecord } from '../../store/store.ts';
import { type ServerEntry, serverEntrySchema } from './server-entry.ts';

/**
 * The MCP servers this machine knows: entries in the store, secret values sealed apart from
 * them. Nothing read from here for display carries a secret value.
 */
export class Registry {
  readonly #store: Store;
  readonly #box: SecretBox;

  constructor(store: Store, box: SecretBox) {
    this.#store = store;
    this.#box = box;
  }

  /** Throws when a server of this name is already registered. */
  async assertFree(name: string): Promise<void> {
    if (await this.#store.getServer(name)) {
      throw new AgentdError(
        'registry_conflict',
        `a server named "${name}" is already registered: pick another name, or change it with agentd mcp configure ${name}`,
      );
    }
  }

  async add(entry: ServerEntry, secrets: Readonly<Record<string, string>>): Promise<void> {
    await this.assertFree(entry.name);
    const now = new Date().toISOString();
    await this.#store.putServer({
      name: entry.name,
      entry: serverEntrySchema.parse(entry),
      sealedSecrets: Object.keys(secrets).length ? this.#box.seal(secrets) : null,
      createdAt: now,
      updatedAt: now,
    });
  }

  async get(name: string): Promise<ServerEntry> {
    const record = await this.#store.getServer(name);
    if (!record) {
      throw new AgentdError(
        'registry_not_found',
        `no MCP server "${name}" is registered: see agentd mcp list`,
      );
    }
    return serverEntrySchema.parse(record.entry);
  }

  async list(): Promise<ServerEntry[]> {
    return (await this.#store.listServers()).map((record) => serverEntrySchema.parse(record.entry));
  }

  /**
   * Changes an entry; `secrets` replaces values by name (undefined removes one). The entry's
   * list of secret names follows the values.
   */
  async update(
    name: string,
    change: (entry: ServerEntry) => ServerEntry,
    secrets: Readonly<Record<string, string | undefined>> = {},
  ): Promise<ServerEntry> {
    const record = await this.#store.getServer(name);
    if (!record) {
      throw new AgentdError(
        'registry_not_found',
        `no MCP server "${name}" is registered: see agentd mcp list`,
      );
    }
    const values = record.sealedSecrets ? this.#box.open(record.sealedSecrets) : {};
    for (const [key, value] of Object.entries(secrets)) {
      if (value === undefined) delete values[key];
      else values[key] = value;
    }
    const entry = serverEntrySchema.parse(change(serverEntrySchema.parse(record.entry)));
    entry.secrets = Object.keys(values).filter((key) => !entry.secretHeaders.includes(key));
    entry.secretHeaders = entry.secretHeaders.filter((key) => key in values);
    await this.#store.putServer({
      ...record,
      entry,
      sealedSecrets: Object.keys(values).length ? this.#box.seal(values) : null,
      updatedAt: new Date().toISOString(),
    });
    return entry;
  }

  async remove(name: string): Promise<void> {
    if (!(await this.#store.deleteServer(name))) {
      throw new AgentdError(
        'registry_not_found',
        `no MCP server "${name}" is registered: see agentd mcp list`,
      );
    }
  }

  /** Secret values, for starting the server only: never print or log them. */
  async secretsOf(name: string): Promise<Record<string, string>> {
    const record = await this.#store.getServer(name);
    return record?.sealedSecrets ? this.#box.open(record.sealedSecrets) : {};
  }

  async setTools(
    name: string,
    tools: readonly Omit<ToolRecord, 'server' | 'listedAt'>[],
  ): Promise<void> {
    const listedAt = new Date().toISOString();
    await this.#store.setServerTools(
      name,
      tools.map((tool) => ({ ...tool, server: name, listedAt })),
    );
  }

  tools(name?: string): Promise<ToolRecord[]> {
    return this.#store.listServerTools(name);
  }

  /** Tools of enabled servers, best match first. */
  async search(query: string, limit = 10): Promise<(ToolRecord & { score: number })[]> {
    const enabled = new Set((await this.list()).filter((e) => e.enabled).map((e) => e.name));
    const found = await this.#store.searchTools(query, limit * 4);
    return found.filter((tool) => enabled.has(tool.server)).slice(0, limit);
  }
}
