import type * as CedarWasm from '@cedar-policy/cedar-wasm/nodejs';

export type Cedar = typeof CedarWasm;
export type {
  AuthorizationAnswer,
  CedarValueJson,
  DetailedError,
  EntityJson,
  PolicyJson,
  SchemaJson,
} from '@cedar-policy/cedar-wasm/nodejs';

let loading: Promise<Cedar> | undefined;

/**
 * The Cedar engine (Rust compiled to WebAssembly, its Node entry). Loaded on first use, once
 * per process: runs without a policy never pay for it.
 */
export function loadCedar(): Promise<Cedar> {
  loading ??= import('@cedar-policy/cedar-wasm/nodejs') as Promise<Cedar>;
  return loading;
}
