import { canonicalJson, sha256 } from '../core/canonical-json.ts';
import { AgentdError } from '../core/errors.ts';
import type { JsonSchema } from '../models/model.ts';
import type { CedarValueJson, SchemaJson } from './cedar.ts';
import { groupOf, type ResourceKind, resourceKindOf, type ToolManifest } from './manifests.ts';

/**
 * The Cedar schema of a run, generated from its tools' manifests:
 *
 * - principals: `Agent` (id: the agent's name; `user` is the person it acts for) and `User`;
 * - each tool is an action (`fs.read`, `github.create_issue`, `count_lines`,
 *   `registry:search`), a member of an action group named after its server (`Action::"fs"`);
 * - resources: `File` and `Dir` for the fs connector (members of every folder above them,
 *   so `resource in Dir::"src"` holds for everything under src), `Host` for the http
 *   connector, `Server` for other servers' tools, `Module` for in-process tools, `Registry`
 *   for the registry search;
 * - `context.input` is the tool's input, typed from its JSON Schema: string → String,
 *   integer → Long, boolean → Bool, number → decimal (four decimal places, values rounded to
 *   them; beyond ±922,337,203,685,477 a call is denied), arrays → Set, objects with
 *   properties → Record. What Cedar cannot type (maps with arbitrary keys, unions, `$ref`,
 *   `null`, mixed arrays) is left out of `context.input`; the action's `@untyped`
 *   annotation lists it. A property is optional (policies test it with `has`) unless the schema
 *   requires it or gives a default: a missing value with a default gets the default.
 */

/** A Cedar type with what converting values needs (defaults). */
export type TypeNode =
  | { kind: 'String' }
  | { kind: 'Long' }
  | { kind: 'Boolean' }
  | { kind: 'Decimal' }
  | { kind: 'Set'; element: TypeNode }
  | { kind: 'Record'; attributes: Map<string, Attribute> };

export interface Attribute {
  type: TypeNode;
  required: boolean;
  default?: unknown;
}

export interface ActionInfo {
  action: string;
  group?: string;
  resourceKind: ResourceKind;
  input: Extract<TypeNode, { kind: 'Record' }>;
  /** Input fields left out of `context.input`, with why. */
  untyped: string[];
}

export interface GeneratedSchema {
  json: SchemaJson<string>;
  actions: Map<string, ActionInfo>;
  /** Action groups and the actions in each. */
  groups: Map<string, string[]>;
  /** SHA-256 of the schema. */
  version: string;
}

const resourceTypes: Record<ResourceKind, string[]> = {
  file: ['File', 'Dir'],
  host: ['Host'],
  server: ['Server'],
  module: ['Module'],
  registry: ['Registry'],
};

const str = { type: 'String' } as const;
const record = (attributes: Record<string, unknown>) => ({ type: 'Record', attributes }) as const;

const entityTypes = {
  // No attributes: requests carry no User entity (`principal.user == User::"alice"` needs none).
  User: { shape: record({}) },
  Agent: {
    shape: record({
      name: str,
      user: { type: 'Entity', name: 'User' },
      // Set for calls through the MCP gateway made with an OAuth token: its claims.
      claims: {
        ...record({
          sub: str,
          iss: str,
          email: { ...str, required: false },
          scope: { type: 'Set', element: str },
          groups: { type: 'Set', element: str, required: false },
        }),
        required: false,
      },
    }),
  },
  Server: { shape: record({ name: str, kind: str }) },
  Module: { shape: record({ name: str }) },
  Registry: { shape: record({ name: str }) },
  Dir: { memberOfTypes: ['Dir', 'Server'], shape: record({ path: str, name: str }) },
  File: { memberOfTypes: ['Dir', 'Server'], shape: record({ path: str, name: str, ext: str }) },
  Host: {
    memberOfTypes: ['Server'],
    shape: record({ host: str, scheme: str, port: { type: 'Long' }, path: str }),
  },
};

export function generateSchema(manifests: readonly ToolManifest[]): GeneratedSchema {
  const actions = new Map<string, ActionInfo>();
  const groups = new Map<string, string[]>();
  const json: Record<string, unknown> = {};
  for (const manifest of [...manifests].sort((a, b) => a.action.localeCompare(b.action))) {
    const untyped: string[] = [];
    const input = inputType(manifest.inputSchema, untyped);
    const group = groupOf(manifest.origin);
    const info: ActionInfo = {
      action: manifest.action,
      resourceKind: resourceKindOf(manifest.origin, manifest.inputSchema),
      input,
      untyped,
      ...(group ? { group } : {}),
    };
    actions.set(manifest.action, info);
    if (group) groups.set(group, [...(groups.get(group) ?? []), manifest.action]);
    const annotations: Record<string, string> = {};
    const doc = firstSentence(manifest.description);
    if (doc) annotations.doc = doc;
    if (untyped.length) annotations.untyped = untyped.join('; ');
    json[manifest.action] = {
      ...(group ? { memberOf: [{ id: group }] } : {}),
      appliesTo: {
        principalTypes: ['Agent', 'User'],
        resourceTypes: resourceTypes[info.resourceKind],
        context: record({ input: schemaType(input) }),
      },
      ...(Object.keys(annotations).length ? { annotations } : {}),
    };
  }
  for (const [group, members] of groups) {
    if (actions.has(group)) {
      throw new AgentdError(
        'policy_invalid',
        `the in-process tool "${group}" has the name of a server (${members[0]} belongs to it); rename the tool so policies can tell them apart`,
      );
    }
    json[group] = { annotations: { doc: `every tool of ${group}` } };
  }
  const schema = { '': { entityTypes, actions: json } } as unknown as SchemaJson<string>;
  return { json: schema, actions, groups, version: sha256(canonicalJson(schema)) };
}

function firstSentence(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const line = text.trim().split(/(?<=\.)\s|\n/)[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

/** The input of a tool as a Record, with what could not be typed listed in `untyped`. */
function inputType(schema: JsonSchema, untyped: string[]): Extract<TypeNode, { kind: 'Record' }> {
  const node = convert(schema, 'input', untyped);
  if (node?.kind === 'Record') return node;
  if (node !== undefined) untyped.push('input (not an object)');
  return { kind: 'Record', attributes: new Map() };
}

type Schemaish = Record<string, unknown>;

function convert(raw: unknown, path: string, untyped: string[]): TypeNode | undefined {
  if (typeof raw !== 'object' || raw === null) {
    untyped.push(`${path} (no schema)`);
    return undefined;
  }
  const schema = raw as Schemaish;
  for (const key of ['anyOf', 'oneOf', 'allOf', '$ref', 'not']) {
    if (key in schema) {
      untyped.push(`${path} (${key})`);
      return undefined;
    }
  }
  let type = schema.type;
  if (Array.isArray(type)) {
    const kinds = type.filter((t) => t !== 'null');
    if (kinds.length !== 1) {
      untyped.push(`${path} (one of ${type.join(', ')})`);
      return undefined;
    }
    type = kinds[0];
  }
  if (type === undefined) {
    const values = Array.isArray(schema.enum)
      ? schema.enum
      : 'const' in schema
        ? [schema.const]
        : undefined;
    if (values?.length && values.every((v) => typeof v === 'string')) return { kind: 'String' };
    if (schema.properties) type = 'object';
  }
  switch (type) {
    case 'string':
      return { kind: 'String' };
    case 'integer':
      return { kind: 'Long' };
    case 'boolean':
      return { kind: 'Boolean' };
    case 'number':
      return { kind: 'Decimal' };
    case 'array': {
      if (Array.isArray(schema.items) || schema.items === undefined) {
        untyped.push(`${path} (an array of mixed items)`);
        return undefined;
      }
      const inner: string[] = [];
      const element = convert(schema.items, `${path}[]`, inner);
      if (!element || inner.length) {
        untyped.push(`${path} (an array of items Cedar cannot type)`);
        return undefined;
      }
      return { kind: 'Set', element };
    }
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, unknown>;
      if (Object.keys(properties).length === 0) {
        untyped.push(`${path} (an object with arbitrary keys)`);
        return undefined;
      }
      const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
      const attributes = new Map<string, Attribute>();
      for (const [name, property] of Object.entries(properties)) {
        const node = convert(property, `${path}.${name}`, untyped);
        if (!node) continue;
        const fallback = (property as Schemaish | null)?.default;
        const nullable =
          Array.isArray((property as Schemaish | null)?.type) &&
          ((property as Schemaish).type as unknown[]).includes('null');
        attributes.set(name, {
          type: node,
          // A default is filled in when the value is missing, so the attribute is always there.
          required: (required.has(name) || fallback !== undefined) && !nullable,
          ...(fallback !== undefined ? { default: fallback } : {}),
        });
      }
      return { kind: 'Record', attributes };
    }
    default:
      untyped.push(`${path} (${type === undefined ? 'no type' : `type ${String(type)}`})`);
      return undefined;
  }
}

/** A type in Cedar's JSON schema format. */
function schemaType(node: TypeNode): unknown {
  switch (node.kind) {
    case 'String':
    case 'Long':
    case 'Boolean':
      return { type: node.kind };
    case 'Decimal':
      return { type: 'Extension', name: 'decimal' };
    case 'Set':
      return { type: 'Set', element: schemaType(node.element) };
    case 'Record': {
      const attributes: Record<string, unknown> = {};
      for (const [name, attribute] of node.attributes) {
        attributes[name] = {
          ...(schemaType(attribute.type) as object),
          ...(attribute.required ? {} : { required: false }),
        };
      }
      return { type: 'Record', attributes };
    }
  }
}

/** A value that does not fit the type its schema gave it: the call is denied. */
export class InputTypeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputTypeError';
  }
}

/** A tool's input as Cedar's `context.input`: the typed part only. */
export function inputValue(
  node: Extract<TypeNode, { kind: 'Record' }>,
  input: unknown,
): CedarValueJson {
  return toValue(node, input ?? {}, 'input');
}

function toValue(node: TypeNode, value: unknown, path: string): CedarValueJson {
  switch (node.kind) {
    case 'String':
      if (typeof value !== 'string') throw mismatch(path, 'a string', value);
      return value;
    case 'Boolean':
      if (typeof value !== 'boolean') throw mismatch(path, 'true or false', value);
      return value;
    case 'Long':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        throw mismatch(path, 'a whole number Cedar can hold (a Long)', value);
      }
      return value;
    case 'Decimal':
      if (typeof value !== 'number') throw mismatch(path, 'a number', value);
      return { __extn: { fn: 'decimal', arg: decimalText(value, path) } };
    case 'Set':
      if (!Array.isArray(value)) throw mismatch(path, 'an array', value);
      return value.map((item, i) => toValue(node.element, item, `${path}[${i}]`));
    case 'Record': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw mismatch(path, 'an object', value);
      }
      const out: Record<string, CedarValueJson> = {};
      const given = value as Record<string, unknown>;
      for (const [name, attribute] of node.attributes) {
        const item = given[name] ?? attribute.default;
        if (item === undefined || item === null) {
          if (attribute.required) throw new InputTypeError(`${path}.${name} is missing`);
          continue;
        }
        out[name] = toValue(attribute.type, item, `${path}.${name}`);
      }
      return out;
    }
  }
}

/** Cedar decimals have four decimal places and a range of about ±9.2 × 10^14. */
const maxDecimal = 922_337_203_685_477;

export function decimalText(value: number, path = 'value'): string {
  if (!Number.isFinite(value) || Math.abs(value) >= maxDecimal) {
    throw new InputTypeError(
      `${path} is ${value}, beyond what a Cedar decimal holds (±${maxDecimal})`,
    );
  }
  const fixed = (value === 0 ? 0 : value).toFixed(4);
  const trimmed = fixed.replace(/0+$/, '');
  return trimmed.endsWith('.') ? `${trimmed}0` : trimmed;
}

function mismatch(path: string, expected: string, value: unknown): InputTypeError {
  const shown = value === undefined ? 'nothing' : typeof value;
  return new InputTypeError(`${path} should be ${expected}, not ${shown}`);
}
