import { FakeModelServer } from './server.ts';

/**
 * The fake model in a process of its own, for the memory tests: each serves 10,000
 * connections at a time, and a process may hold 20,000 file descriptors on these machines,
 * so two tests at once need two servers; it closes each connection after its answer (see
 * `FakeModelServer.start`). Sends its base URLs' origins over IPC; stops when
 * its parent disconnects.
 */
const ports = Number(process.argv[2] ?? 64);
const server = await FakeModelServer.start(ports, { closeConnections: true });
process.send?.({ origins: Array.from({ length: server.ports }, (_, i) => server.origin(i)) });
process.on('disconnect', () => {
  server.close().finally(() => process.exit(0));
});
