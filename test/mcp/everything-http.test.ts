import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe } from 'vitest';
import { everythingCases } from './everything-cases.ts';
import { connection, startEverythingHttp } from './support.ts';

describe('server-everything over streamable HTTP', () => {
  let server: { url: string; process: ChildProcess };
  beforeAll(async () => {
    server = await startEverythingHttp();
  });
  afterAll(() => {
    server?.process.kill();
  });
  everythingCases(() =>
    connection({ name: 'everything', config: { transport: 'http', url: server.url, headers: {} } }),
  );
});
