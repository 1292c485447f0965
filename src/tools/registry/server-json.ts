import { z } from 'zod';
import { AgentdError } from '../../core/errors.ts';
import { parseYamlFile } from '../../definition/yaml-file.ts';
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
}

/**
 * A registry entry from an official `server.json`: its npm package over stdio (run with
 * npx), or else its streamable-HTTP remote. `args` gives values to arguments that have none,
 * by their valueHint or name.
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
  const npm = json.packages?.find((p) => p.registryType === 'npm' && p.transport.type === 'stdio');
  if (npm) {
    const values = options.args ?? {};
    const argv = (list: z.output<typeof argument>[] | undefined, where: string) =>
      (list ?? []).flatMap((arg, i) => {
        const key = arg.valueHint ?? arg.name ?? '';
        const value = arg.value ?? values[key] ?? arg.default;
        if (value === undefined) {
          if (arg.type === 'named' && !arg.isRequired && arg.name) return [];
          throw new AgentdError(
            'registry_invalid',
            `${file}: packages[].${where}[${i}] (${key || 'unnamed'}) needs a value: pass --arg ${key || 'NAME'}=<value>`,
          );
        }
        return arg.type === 'named' && arg.name ? [arg.name, value] : [value];
      });
    const env: Record<string, string> = {};
    const secrets: ImportedServer['secrets'] = [];
    const missingEnv: ImportedServer['missingEnv'] = [];
    for (const variable of npm.environmentVariables ?? []) {
      if (variable.isSecret) {
        secrets.push({
          name: variable.name,
          description: variable.description,
          required: variable.isRequired ?? false,
        });
        continue;
      }
      const value = variable.value ?? variable.default;
      if (value !== undefined) env[variable.name] = value;
      else if (variable.isRequired)
        missingEnv.push({ name: variable.name, description: variable.description });
    }
    const pkg = npm.version ? `${npm.identifier}@${npm.version}` : npm.identifier;
    return {
      entry: {
        ...base,
        source: { ...base.source },
        transport: {
          type: 'stdio',
          command: 'npx',
          args: [
            ...argv(npm.runtimeArguments, 'runtimeArguments'),
            '-y',
            pkg,
            ...argv(npm.packageArguments, 'packageArguments'),
          ],
        },
        env,
        headers: {},
        secrets: [],
        secretHeaders: [],
      },
      secrets,
      missingEnv,
    };
  }
  const remote = json.remotes?.find((r) => r.type === 'streamable-http');
  if (remote) {
    const headers: Record<string, string> = {};
    const secrets: ImportedServer['secrets'] = [];
    for (const header of remote.headers ?? []) {
      if (header.isSecret)
        secrets.push({
          name: header.name,
          description: header.description,
          required: header.isRequired ?? false,
        });
      else if (header.value ?? header.default)
        headers[header.name] = (header.value ?? header.default)!;
    }
    return {
      entry: {
        ...base,
        transport: { type: 'http', url: remote.url },
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
