import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A package the local registry serves: its package.json and its files. */
export interface LocalPackage {
  manifest: { name: string; version: string } & Record<string, unknown>;
  files?: Record<string, string>;
}

export interface LocalRegistry {
  /** The registry's URL, for `npm_config_registry`. */
  url: string;
  /** Every request path it was asked for, in order. */
  requests: string[];
  close(): Promise<void>;
}

/**
 * An npm registry on 127.0.0.1 (a dynamic port) that serves `packages` as the public one
 * does: a packument per name (`/<name>`, `/@scope%2fname`) with each version's manifest and
 * `dist` (tarball URL, sha512 integrity, sha1 shasum), and the tarballs, made by `npm pack`
 * from a folder it writes (and removes). Anything else is a 404 with npm's JSON error body.
 */
export async function startNpmRegistry(packages: readonly LocalPackage[]): Promise<LocalRegistry> {
  const work = mkdtempSync(join(tmpdir(), 'agentd-npm-registry-'));
  const tarballs = new Map<string, Buffer>();
  const packuments = new Map<string, { versions: Record<string, unknown>; latest: string }>();
  try {
    await packAll();
  } finally {
    rmSync(work, { recursive: true, force: true }); // the tarballs are in memory now
  }
  async function packAll() {
    for (const pkg of packages) {
      const { name, version } = pkg.manifest;
      const folder = join(work, 'src', name, version);
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'package.json'), JSON.stringify(pkg.manifest, null, 2));
      for (const [file, text] of Object.entries(pkg.files ?? {})) {
        mkdirSync(dirname(join(folder, file)), { recursive: true });
        writeFileSync(join(folder, file), text, { mode: 0o755 });
      }
      const { stdout } = await run(
        'npm',
        ['pack', '--json', '--ignore-scripts', '--pack-destination', work],
        { cwd: folder },
      );
      const [packed] = JSON.parse(stdout) as { filename: string }[];
      const tgz = readFileSync(join(work, packed!.filename));
      const file = `${name.split('/').pop()}-${version}.tgz`;
      tarballs.set(`/${name}/-/${file}`, tgz);
      const entry = packuments.get(name) ?? { versions: {}, latest: version };
      entry.versions[version] = {
        ...pkg.manifest,
        dist: {
          tarball: `/${name}/-/${file}`,
          integrity: `sha512-${createHash('sha512').update(tgz).digest('base64')}`,
          shasum: createHash('sha1').update(tgz).digest('hex'),
        },
      };
      entry.latest = version;
      packuments.set(name, entry);
    }
  }

  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tgz = tarballs.get(path);
    if (tgz) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tgz);
      return;
    }
    const packument = packuments.get(path.slice(1));
    if (!packument) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"Not found"}');
      return;
    }
    const versions = Object.fromEntries(
      Object.entries(packument.versions).map(([version, manifest]) => {
        const m = manifest as { dist: { tarball: string } };
        return [version, { ...m, dist: { ...m.dist, tarball: base + m.dist.tarball } }];
      }),
    );
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        name: path.slice(1),
        'dist-tags': { latest: packument.latest },
        versions,
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A minimal MCP server over stdio for a package's `bin`: answers `initialize` and lists one
 * tool, `echo`; enough for `mcp add` to start the installed package and list its tools.
 */
export const tinyMcpServer = `#!/usr/bin/env node
const readline = require('node:readline');
const send = (message) => process.stdout.write(JSON.stringify(message) + '\\n');
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const message = JSON.parse(line);
  if (message.id === undefined) return;
  if (message.method === 'initialize') {
    send({ jsonrpc: '2.0', id: message.id, result: {
      protocolVersion: message.params.protocolVersion,
      capabilities: { tools: {} },
      serverInfo: { name: 'tiny', version: '1.0.0' },
    } });
  } else if (message.method === 'tools/list') {
    send({ jsonrpc: '2.0', id: message.id, result: { tools: [{
      name: 'echo', description: 'Echo the text back', inputSchema: { type: 'object' },
    }] } });
  } else {
    send({ jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'no such method' } });
  }
});
`;
