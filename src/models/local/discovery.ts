/**
 * Model servers running on this machine, found on their default ports on 127.0.0.1 (never
 * another address): Ollama by `/api/tags`, llama.cpp's server, vLLM and LM Studio by
 * `/v1/models`. Every probe of one look shares a deadline (200 ms by default), so discovery
 * never holds a run up longer than that.
 */

import { get } from 'node:http';

export const serverKinds = ['ollama', 'llama-cpp', 'vllm', 'lm-studio'] as const;
export type ServerKind = (typeof serverKinds)[number];

export const defaultPorts: Readonly<Record<ServerKind, readonly number[]>> = {
  ollama: [11434],
  'llama-cpp': [8080],
  vllm: [8000],
  'lm-studio': [1234],
};

const labels: Record<ServerKind, string> = {
  ollama: 'Ollama',
  'llama-cpp': 'llama.cpp server',
  vllm: 'vLLM',
  'lm-studio': 'LM Studio',
};

export interface ServedModel {
  /** What an agent spec writes: `ollama/<name>` or `openai-compatible/<id>`. */
  ref: string;
  id: string;
  /** Details the server gives (Ollama: parameters, quantization, family). */
  details?: { parameters?: string; quantization?: string; family?: string };
}

export interface LocalServer {
  kind: ServerKind;
  label: string;
  port: number;
  /** The OpenAI-compatible base URL agentd calls it at. */
  baseUrl: string;
  models: ServedModel[];
}

export interface DiscoveryOptions {
  /** Ports per kind instead of the defaults (config.yaml `local.ports`). */
  ports?: Partial<Record<ServerKind, readonly number[]>>;
  /** The whole look's deadline. */
  timeoutMs?: number;
}

export const discoveryTimeoutMs = 200;

/** The servers that answered within the deadline, in the order of `serverKinds`. */
export async function discoverServers(options: DiscoveryOptions = {}): Promise<LocalServer[]> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? discoveryTimeoutMs);
  const probes = serverKinds.flatMap((kind) =>
    (options.ports?.[kind] ?? defaultPorts[kind]).map((port) => probe(kind, port, signal)),
  );
  const found = await Promise.all(probes);
  return found.filter((server): server is LocalServer => server !== undefined);
}

/** The first server that serves `id` as `kind` asks (an Ollama model, or any OpenAI-compatible id). */
export function findServing(
  servers: readonly LocalServer[],
  provider: 'ollama' | 'openai-compatible',
  id: string,
): LocalServer | undefined {
  return servers.find(
    (s) =>
      (provider === 'ollama' ? s.kind === 'ollama' : true) &&
      s.models.some((m) => m.id === id || (s.kind === 'ollama' && m.id === `${id}:latest`)),
  );
}

async function probe(
  kind: ServerKind,
  port: number,
  signal: AbortSignal,
): Promise<LocalServer | undefined> {
  const origin = `http://127.0.0.1:${port}`;
  try {
    if (kind === 'ollama') {
      const body = (await getJson(`${origin}/api/tags`, signal)) as {
        models?: {
          name?: unknown;
          model?: unknown;
          details?: { parameter_size?: unknown; quantization_level?: unknown; family?: unknown };
        }[];
      };
      if (!Array.isArray(body?.models)) return undefined;
      return {
        kind,
        label: labels[kind],
        port,
        baseUrl: `${origin}/v1`,
        models: body.models
          .filter((m) => typeof m.name === 'string')
          .map((m) => ({
            ref: `ollama/${m.name}`,
            id: m.name as string,
            details: {
              ...str('parameters', m.details?.parameter_size),
              ...str('quantization', m.details?.quantization_level),
              ...str('family', m.details?.family),
            },
          })),
      };
    }
    const body = (await getJson(`${origin}/v1/models`, signal)) as {
      data?: { id?: unknown }[];
    };
    if (!Array.isArray(body?.data)) return undefined;
    return {
      kind,
      label: labels[kind],
      port,
      baseUrl: `${origin}/v1`,
      models: body.data
        .filter((m) => typeof m.id === 'string')
        .map((m) => ({ ref: `openai-compatible/${m.id}`, id: m.id as string })),
    };
  } catch {
    return undefined;
  }
}

/** GET over node:http (not fetch: its first use costs more than the whole deadline on a busy machine). */
function getJson(url: string, signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = get(url, { signal, headers: { accept: 'application/json' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve(undefined);
        return;
      }
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > 4_000_000) req.destroy(new Error('too large'));
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (error) {
          reject(error);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function str<K extends string>(key: K, value: unknown): { [P in K]?: string } {
  return (typeof value === 'string' && value ? { [key]: value } : {}) as { [P in K]?: string };
}
