import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Words that mean the same thing to the fake model: each group is one direction in its space.
 * A real embedding model knows that "ship" and "release" are close; this one knows only these.
 */
const concepts: string[][] = [
  ['deploy', 'release', 'ship', 'rollout', 'publish', 'launch'],
  ['language', 'korean', 'english', 'french', 'japanese', 'spanish', 'locale', 'translate'],
  ['answer', 'reply', 'respond', 'response', 'write', 'say'],
  ['test', 'tests', 'spec', 'suite', 'vitest', 'jest', 'unit'],
  ['database', 'postgres', 'sqlite', 'mysql', 'db', 'sql', 'store'],
  ['folder', 'directory', 'path', 'dir', 'legacy'],
  ['never', 'avoid', 'dont', 'not', 'forbid', 'refuse'],
  ['fast', 'slow', 'latency', 'performance', 'speed', 'quick'],
  ['bug', 'error', 'failure', 'crash', 'broken', 'fail', 'failed', 'exception'],
  ['cat', 'dog', 'pet', 'animal'],
  ['coffee', 'tea', 'drink', 'beverage'],
  ['meeting', 'standup', 'call', 'sync'],
  ['budget', 'cost', 'price', 'money', 'spend'],
  ['short', 'brief', 'concise', 'terse', 'long', 'verbose'],
  ['weather', 'rain', 'sunny', 'forecast'],
  ['pirate', 'arr', 'matey'],
];

const conceptOf = new Map<string, number>();
for (const [i, group] of concepts.entries()) for (const word of group) conceptOf.set(word, i);

function stem(word: string): string {
  return word.replace(/(ing|ed|es|s)$/, '') || word;
}

/**
 * The fake model's vector for a text: each known word adds its concept's direction, each
 * other word a small hashed direction of its own. Deterministic, and semantic only as far as
 * the concept list goes.
 */
export function fakeEmbedding(text: string, dimensions = 64): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const tokens = text
    .toLowerCase()
    .split(/\s+/)
    .flatMap((chunk) =>
      // An identifier with digits (ERR_4471, PAY-2291, v2.4) stays one token.
      /\p{N}/u.test(chunk)
        ? [chunk.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '')]
        : chunk.split(/[^\p{L}\p{N}]+/u),
    );
  for (const raw of tokens) {
    if (!raw) continue;
    const concept = conceptOf.get(raw) ?? conceptOf.get(stem(raw));
    if (concept !== undefined) {
      vector[concept % dimensions]! += 1;
      continue;
    }
    const hash = createHash('sha256').update(raw).digest();
    // Like real models, it barely tells rare identifiers and numbers apart: they share two slots.
    const slot = /\p{N}/u.test(raw)
      ? dimensions - 1 - (hash[0]! & 1)
      : concepts.length + (hash.readUInt32LE(0) % (dimensions - concepts.length - 2));
    vector[slot]! += (hash[4]! & 1 ? 1 : -1) * 0.35;
  }
  if (!vector.some((v) => v !== 0)) vector[dimensions - 3] = 1;
  return vector;
}

export interface FakeEmbeddings {
  /** The base URL to give as memory.embeddings.base_url (ends in /v1). */
  url: string;
  /** The texts embedded so far, in order. */
  inputs: string[];
  /** Make the next requests fail with this HTTP status (0: answer normally). */
  failWith: number;
  close(): Promise<void>;
}

/**
 * A local server that speaks the OpenAI embeddings wire format (`POST /v1/embeddings`, input a
 * string or a list, `dimensions` honoured), answering with `fakeEmbedding` vectors.
 */
export async function startFakeEmbeddings(): Promise<FakeEmbeddings> {
  const state = { inputs: [] as string[], failWith: 0 };
  const server: Server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || !request.url?.endsWith('/embeddings')) {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: `no route ${request.url}` } }));
        return;
      }
      if (state.failWith) {
        response.writeHead(state.failWith, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: 'the fake embedder is down' } }));
        return;
      }
      const parsed = JSON.parse(body) as { input: string | string[]; dimensions?: number };
      const inputs = Array.isArray(parsed.input) ? parsed.input : [parsed.input];
      state.inputs.push(...inputs);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          object: 'list',
          data: inputs.map((input, index) => ({
            object: 'embedding',
            index,
            embedding: fakeEmbedding(input, parsed.dimensions ?? 64),
          })),
          model: 'fake-embed',
          usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get inputs() {
      return state.inputs;
    },
    get failWith() {
      return state.failWith;
    },
    set failWith(status: number) {
      state.failWith = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
