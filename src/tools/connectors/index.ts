export { createFsServer, type FsConnectorOptions } from './fs-server.ts';
export { createShellServer, type ShellConnectorOptions } from './shell-server.ts';
