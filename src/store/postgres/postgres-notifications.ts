import type pg from 'pg';
import type { ChangeTopic } from '../store.ts';
import type { PostgresConnection } from './postgres-connection.ts';

/**
 * LISTEN on one connection of its own for the store's changes, whoever made them: the
 * process is told at once instead of asking the store again and again. Each topic is
 * listened to from its first subscriber on; the connection is opened at the first.
 */
export class PostgresNotifications {
  readonly #c: PostgresConnection;
  readonly #handlers = new Map<string, Set<(key: string) => void>>();
  #client: Promise<pg.Client> | undefined;
  #closed = false;

  constructor(connection: PostgresConnection) {
    this.#c = connection;
  }

  async subscribe(topic: ChangeTopic, fn: (key: string) => void): Promise<() => void> {
    const client = await this.#connect();
    const channel = this.#c.channel(topic);
    let handlers = this.#handlers.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.#handlers.set(channel, handlers);
      await client.query(`LISTEN "${channel}"`);
    }
    handlers.add(fn);
    return () => {
      handlers.delete(fn);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = await this.#client?.catch(() => undefined);
    await client?.end().catch(() => undefined);
  }

  #connect(): Promise<pg.Client> {
    this.#client ??= (async () => {
      await this.#c.ready;
      if (this.#closed) throw new Error('the store is closed');
      const client = this.#c.newClient();
      client.on('error', () => undefined);
      client.on('notification', (message) => {
        for (const fn of [...(this.#handlers.get(message.channel) ?? [])])
          fn(message.payload ?? '');
      });
      await client.connect();
      return client;
    })();
    return this.#client;
  }
}
