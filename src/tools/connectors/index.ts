export { createFsServer, type FsConnectorOptions } from './fs-server.ts';
