export type { AllowPrivate } from './address-guard.ts';
export { ConnectorError } from './connector-error.ts';
export { createFsServer, type FsConnectorOptions } from './fs-server.ts';
export { createHttpServer, type HttpConnectorOptions } from './http-server.ts';
export type { Lookup, ResolvedAddress } from './safe-fetch.ts';
export {
  createShellServer,
  type ShellConnectorOptions,
  type ShellContainment,
  type ShellSandbox,
  shellContainment,
} from './shell-server.ts';
