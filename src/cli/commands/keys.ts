import { loadConfig } from '../../config/config.ts';
import { ApiKeys, parseScopes } from '../../server/api-keys.ts';
import { openStore } from '../../store/open-store.ts';
import { paint, table } from '../format.ts';

async function withKeys<T>(fn: (keys: ApiKeys) => Promise<T>): Promise<T> {
  const store = openStore(loadConfig());
  try {
    return await fn(new ApiKeys(store));
  } finally {
    await store.close();
  }
}

/** `agentd keys create`: the key is printed once, here, and never again. */
export function keysCreateCommand(options: { name: string; scopes: string }): Promise<number> {
  const scopes = parseScopes(options.scopes);
  return withKeys(async (keys) => {
    const { record, key } = await keys.create(options.name, scopes);
    process.stderr.write(
      `created ${record.id} (${record.name}) with scopes ${scopes.join(', ')}; the key is shown only now:\n`,
    );
    process.stdout.write(`${key}\n`);
    return 0;
  });
}

export function keysListCommand(options: { json?: boolean }): Promise<number> {
  return withKeys(async (keys) => {
    const list = await keys.list();
    if (options.json) {
      for (const { hash: _hash, ...key } of list) process.stdout.write(`${JSON.stringify(key)}\n`);
      return 0;
    }
    if (list.length === 0) {
      process.stdout.write(
        'no API keys (create one with agentd keys create --name <name> --scopes ...)\n',
      );
      return 0;
    }
    process.stdout.write(
      `${table(
        ['ID', 'NAME', 'SCOPES', 'CREATED', 'STATE'],
        list.map((k) => [
          k.id,
          k.name,
          k.scopes.join(','),
          k.createdAt.slice(0, 19).replace('T', ' '),
          k.revokedAt
            ? paint('dim', `revoked ${k.revokedAt.slice(0, 10)}`, process.stdout)
            : 'active',
        ]),
      )}\n`,
    );
    return 0;
  });
}

export function keysRevokeCommand(id: string): Promise<number> {
  return withKeys(async (keys) => {
    await keys.revoke(id);
    process.stdout.write(`revoked ${id}: requests with it are refused from now on\n`);
    return 0;
  });
}
