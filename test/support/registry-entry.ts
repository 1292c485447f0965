import { defaultContainment, type ServerEntry } from '../../src/tools/registry/server-entry.ts';

/**
 * A registry entry for tests: the transport given, nothing else declared (no variables,
 * headers, secrets or roots), no sandbox, enabled; `extra` overrides any of it.
 */
export function registryEntry(
  name: string,
  transport: ServerEntry['transport'],
  extra: Partial<ServerEntry> = {},
): ServerEntry {
  return {
    name,
    source: transport.type === 'http' ? { kind: 'url' } : { kind: 'command' },
    transport,
    env: {},
    headers: {},
    secrets: [],
    secretHeaders: [],
    roots: [],
    containment: { ...defaultContainment, sandbox: 'none' },
    enabled: true,
    ...extra,
  };
}
