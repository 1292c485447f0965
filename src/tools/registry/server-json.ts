import { z } from 'zod';
import { AgentdError } from '../../core/errors.ts';
import { parseYamlFile } from '../../definition/yaml-file.ts';
import {
  checkArgumentName,
  checkArgumentValue,
  checkHeaderName,
  checkHeaderValue,
  checkServerUrl,
  checkVariableName,
  checkVariableValue,
  shown,
} from './entry-values.ts';
import {
  checkNpmName,
  checkNpmVersion,
  type NpmPackageSpec,
  npxTransport,
} from './npm-package-spec.ts';
import { type Containment, type ServerEntry, serverNamePattern } from './server-entry.ts';

/** The parts of the official MCP Registry `server.json` agentd reads; other fields are kept out. */
const keyValueInput = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  isRequired: z.boolean().optional(),
  isSecret: z.boolean().optional(),
  default: z.string().optional(),
  value: z.string().optional(),
});

const argument = z.looseObject({
  type: z.enum(['positional', 'named']),
  name: z.string().optional(),
  valueHint: z.string().optional(),
  value: z.string().optional(),
  default: z.string().optional(),
  isRequired: z.boolean().optional(),
});

const serverJsonSchema = z.looseObject({
  name: z
    .string()
    .regex(
      /^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/,
      'must be reverse-DNS with one slash, e.g. io.github.user/weather',
    ),
  description: z.string(),
  version: z.string(),
  title: z.string().optional(),
  packages: z
    .array(
      z.looseObject({
        registryType: z.string(),
        identifier: z.string(),
        version: z.string().optional(),
        registryBaseUrl: z.string().optional(),
        transport: z.looseObject({ type: z.string(), url: z.string().optional() }),
        runtimeArguments: z.array(argument).optional(),
        packageArguments: z.array(argument).optional(),
        environmentVariables: z.array(keyValueInput).optional(),
      }),
    )
    .optional(),
  remotes: z
    .array(
      z.looseObject({
        type: z.string(),
        url: z.string(),
        headers: z.array(keyValueInput).optional(),
      }),
    )
    .optional(),
});

export interface ImportedServer {
  entry: ServerEntry;
  /** Secret names the server needs, with what they are for. */
  secrets: { name: string; description?: string; required: boolean }[];
  /** Variables the server needs that have no value yet. */
  missingEnv: { name: string; description?: string }[];
  /** The npm package the entry runs and the arguments it gets, checked. */
  npm?: { package: NpmPackageSpec; args: string[] };
}

/**
 * A registry entry from an official `server.json`: its npm package over stdio (to install,
 * or run with npx), or else its streamable-HTTP remote. `args` gives values to arguments
 * that have none, by their valueHint or name. Every value that will reach a process or a
 * connection is checked first (package name and version, arguments, variables, headers, URL):
 * it is data, never an option or a shell word.
 */
export function entryFromServerJson(
  file: string,
  text: string,
  options: { name?: string; args?: Readonly<Record<string, string>>; containment: Containment },
): ImportedServer {
  const json = parseYamlFile(file, text, serverJsonSchema);
  const name = options.name ?? defaultName(json.name);
  if (!serverNamePattern.test(name)) {
    throw new AgentdError(
      'registry_invalid',
      `${file}: "${name}" cannot be a server name here (lowercase letters, digits, "_" and "-", at most 32); give one with --name`,
    );
  }
  const base = {
    name,
    ...(json.title ? { title: json.title } : {}),
    description: json.description,
    version: json.version,
    source: { kind: 'server.json' as const, name: json.name, file },
    roots: [],
    containment: options.containment,
    enabled: true,
  };
  const npmAt = (json.packages ?? []).findIndex(
    (p) => p.registryType === 'npm' && p.transport.type === 'stdio',
  );
  const npm = json.packages?.[npmAt];
  if (npm) {
    const at = `${file}: packages[${npmAt}]`;
    const pkg: NpmPackageSpec = { name: checkNpmName(npm.identifier, `${at}.identifier`) };
    if (npm.version !== undefined) pkg.version = checkNpmVersion(npm.version, `${at}.version`);
    if (
      npm.registryBaseUrl !== undefined &&
      !/^https:\/\/registry\.npmjs\.org\/?$/.test(npm.registryBaseUrl)
    ) {
      throw new AgentdError(
        'registry_invalid',
        `${at}.registryBaseUrl: ${shown(npm.registryBaseUrl)}: agentd installs from your own npm registry (npm config get registry), never from one an entry names; install it yourself and register the command: agentd mcp add <name> -- <command>`,
      );
    }
    const [runtimeArg] = npm.runtimeArguments ?? [];
    if (runtimeArg) {
      throw new AgentdError(
        'registry_invalid',
        `${at}.runtimeArguments: ${shown(runtimeArg.name ?? runtimeArg.value ?? runtimeArg.default ?? runtimeArg.type)}: agentd runs the package itself, not through a runtime, and takes no runtime options from an entry; to pass them, register the command yourself: agentd mcp add <name> -- npx ...`,
      );
    }
    const values = options.args ?? {};
    const args = (npm.packageArguments ?? []).flatMap((arg, i) => {
      const field = `${at}.packageArguments[${i}]`;
      const key = arg.valueHint ?? arg.name ?? '';
      const given = arg.value === undefined ? values[key] : undefined;
      const value = arg.value ?? given ?? arg.default;
      if (value === undefined) {
        if (arg.type === 'named' && !arg.isRequired && arg.name) return [];
        throw new AgentdError(
          'registry_invalid',
          `${field} (${key || 'unnamed'}) needs a value: pass --arg ${key || 'NAME'}=<value>`,
        );
      }
      if (given !== undefined) checkArgumentValue(given, `--arg ${key}`, 'user');
      else
        checkArgumentValue(
          value,
          `${field}.${arg.value === undefined ? 'default' : 'value'}`,
          'entry',
        );
      if (arg.type === 'named' && arg.name) {
        return [checkArgumentName(arg.name, `${field}.name`), value];
      }
      return [value];
    });
    const env: Record<string, string> = {};
    const secrets: ImportedServer['secrets'] = [];
    const missingEnv: ImportedServer['missingEnv'] = [];
    for (const [i, variable] of (npm.environmentVariables ?? []).entries()) {
      const field = `${at}.environmentVariables[${i}]`;
      checkVariableName(variable.name, `${field}.name`);
      if (variable.isSecret) {
        secrets.push({
          name: variable.name,
          description: variable.description,
          required: variable.isRequired ?? false,
        });
        continue;
      }
      const value = variable.value ?? variable.default;
      if (value !== undefined) env[variable.name] = checkVariableValue(value, `${field}.value`);
      else if (variable.isRequired)
        missingEnv.push({ name: variable.name, description: variable.description });
    }
    return {
      entry: {
        ...base,
        transport: npxTransport(pkg, args),
        env,
        headers: {},
        secrets: [],
        secretHeaders: [],
      },
      npm: { package: pkg, args },
      secrets,
      missingEnv,
    };
  }
  const remoteAt = (json.remotes ?? []).findIndex((r) => r.type === 'streamable-http');
  const remote = json.remotes?.[remoteAt];
  if (remote) {
    const at = `${file}: remotes[${remoteAt}]`;
    const headers: Record<string, string> = {};
    const secrets: ImportedServer['secrets'] = [];
    for (const [i, header] of (remote.headers ?? []).entries()) {
      const field = `${at}.headers[${i}]`;
      checkHeaderName(header.name, `${field}.name`);
      const value = header.value ?? header.default;
      if (header.isSecret)
        secrets.push({
          name: header.name,
          description: header.description,
          required: header.isRequired ?? false,
        });
      else if (value) headers[header.name] = checkHeaderValue(value, `${field}.value`);
    }
    return {
      entry: {
        ...base,
        transport: { type: 'http', url: checkServerUrl(remote.url, `${at}.url`) },
        env: {},
        headers,
        secrets: [],
        secretHeaders: [],
      },
      secrets,
      missingEnv: [],
    };
  }
  const offered = [
    ...(json.packages ?? []).map((p) => `${p.registryType}/${p.transport.type}`),
    ...(json.remotes ?? []).map((r) => `remote/${r.type}`),
  ];
  throw new AgentdError(
    'registry_invalid',
    `${file}: no npm package over stdio and no streamable-http remote, which is what agentd runs (it offers: ${offered.join(', ') || 'nothing'})`,
  );
}

/** `io.github.user/weather-server` → `weather-server`. */
function defaultName(registryName: string): string {
  return registryName
    .slice(registryName.indexOf('/') + 1)
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 32);
}
