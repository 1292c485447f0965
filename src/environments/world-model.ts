import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type { JsonValue } from '../core/messages.ts';
import type { EnvironmentSpec } from '../definition/environment-spec.ts';
import type { JsonSchema } from '../models/model.ts';
import type { Environment, Observation, ObservationImage, StepResult } from './environment.ts';
import { FrameStore } from './frame-store.ts';
import type { EnvironmentContext } from './open-environment.ts';
import { pngSize } from './png.ts';
import { SocketWorldModelTransport } from './world-model-socket.ts';
import {
  HttpWorldModelTransport,
  type WorldModelAnswer,
  type WorldModelRequest,
  type WorldModelTransport,
} from './world-model-transport.ts';

/** Keys a world model takes, as the Micro-World family of models does (WASD, jump, ...). */
export const worldModelKeys = [
  'w',
  'a',
  's',
  'd',
  'space',
  'shift',
  'ctrl',
  'e',
  'q',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
] as const;

/** One action: the keys held and the mouse moved during `ticks` frames. */
export const worldModelActionSchema = z.strictObject({
  keys: z
    .array(z.enum(worldModelKeys))
    .max(6)
    .default([])
    .describe('keys held during the action (w forward, s back, a left, d right, space jump)'),
  mouse: z
    .strictObject({
      dx: z.int().min(-500).max(500).default(0).describe('look right (+) or left (-), pixels'),
      dy: z.int().min(-500).max(500).default(0).describe('look down (+) or up (-), pixels'),
      left: z.boolean().default(false).describe('left button held (attack, break)'),
      right: z.boolean().default(false).describe('right button held (use, place)'),
    })
    .default({ dx: 0, dy: 0, left: false, right: false }),
  ticks: z.int().min(1).max(16).default(1).describe('frames the action lasts'),
});

const frameSchema = z.strictObject({
  media_type: z.literal('image/png'),
  data: z.base64(),
});

const startResponse = z.object({
  session: z.string().min(1).max(200),
  frame: frameSchema,
  text: z.string().optional(),
});

const stepResponse = z.object({
  frame: frameSchema,
  text: z.string().optional(),
  reward: z.number().optional(),
  terminated: z.boolean().optional(),
  info: z.record(z.string(), z.unknown()).optional(),
});

/** How often a step is sent again after a dropped connection (the server dedupes by step number). */
const attempts = 3;

const toJsonSchema = (schema: z.ZodType): JsonSchema => {
  const json = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as JsonSchema;
  delete json.$schema;
  return json;
};

/**
 * A world-model server as an environment: `reset` starts a session from the prompt (and the
 * start image), `step` sends one keyboard-and-mouse action and gets the next frame. Frames are
 * stored content-addressed (`FrameStore`), observations carry them by digest. The server is
 * reached over HTTP (`http(s)://`) or one WebSocket (`ws(s)://`); both wire formats are in
 * docs/environments.md and mean the same. A step carries its number, so after a dropped
 * connection it is sent again and the server answers it once.
 */
export class WorldModelEnvironment implements Environment {
  readonly kind = 'world-model';
  readonly actionSpace = toJsonSchema(worldModelActionSchema);
  readonly observationSpace: JsonSchema = {
    type: 'object',
    properties: {
      step: { type: 'integer' },
      info: { type: 'object' },
    },
  };
  /** A model's frames depend on its sampling; the fake server's do not. Trust the digests. */
  readonly deterministic = false;
  readonly #url: string;
  readonly #prompt: string;
  readonly #image: Buffer | undefined;
  readonly #transport: WorldModelTransport;
  readonly #timeoutMs: number;
  readonly frames: FrameStore;
  readonly settings: { [key: string]: JsonValue };
  #session: string | undefined;
  #step = 0;

  constructor(options: {
    url: string;
    prompt: string;
    image?: Buffer;
    token?: string;
    timeoutMs?: number;
    framesDir: string;
  }) {
    this.#url = options.url.replace(/\/+$/, '');
    this.#prompt = options.prompt;
    this.#image = options.image;
    this.#transport = /^wss?:/i.test(this.#url)
      ? new SocketWorldModelTransport(this.#url, options.token)
      : new HttpWorldModelTransport(this.#url, options.token);
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.frames = new FrameStore(options.framesDir);
    this.settings = {
      url: this.#url,
      prompt: this.#prompt,
      ...(this.#image ? { image: createHash('sha256').update(this.#image).digest('hex') } : {}),
    };
  }

  static fromSpec(spec: EnvironmentSpec, context: EnvironmentContext): WorldModelEnvironment {
    if (spec.kind !== 'world-model') throw new Error(`not a world model: ${spec.kind}`);
    let image: Buffer | undefined;
    if (spec.image) {
      try {
        image = readFileSync(spec.image);
      } catch {
        throw new AgentdError(
          'spec_invalid',
          `environment.image: ${spec.image} not found (a PNG, relative to the spec file)`,
        );
      }
      if (!pngSize(image)) {
        throw new AgentdError('spec_invalid', `environment.image: ${spec.image} is not a PNG`);
      }
    }
    let token: string | undefined;
    if (spec.api_key_env) {
      token = context.env?.[spec.api_key_env];
      if (!token) {
        throw new AgentdError(
          'model_credentials_missing',
          `environment.api_key_env: ${spec.api_key_env} is not set (the world-model server's token)`,
        );
      }
    }
    return new WorldModelEnvironment({
      url: spec.url,
      prompt: spec.prompt,
      framesDir: context.framesDir ?? join(homedir(), '.agentd', 'frames'),
      ...(image ? { image } : {}),
      ...(token ? { token } : {}),
      ...(spec.timeout_ms ? { timeoutMs: spec.timeout_ms } : {}),
    });
  }

  parseAction(input: unknown): { ok: true; action: JsonValue } | { ok: false; error: string } {
    const parsed = worldModelActionSchema.safeParse(input);
    if (parsed.success) return { ok: true, action: parsed.data };
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length ? issue.path.join('.') : 'action';
    return { ok: false, error: `${where}: ${issue.message}` };
  }

  async reset(seed: number, signal?: AbortSignal): Promise<Observation> {
    await this.#endSession();
    const body = {
      prompt: this.#prompt,
      seed,
      ...(this.#image
        ? { image: { media_type: 'image/png' as const, data: this.#image.toString('base64') } }
        : {}),
    };
    const answer = startResponse.safeParse(
      await this.#request({ kind: 'start', body }, 'start', signal),
    );
    if (!answer.success) throw this.#malformed('start', answer.error);
    this.#session = answer.data.session;
    this.#step = 0;
    return this.#observe(answer.data.frame.data, answer.data.text, {});
  }

  async step(action: JsonValue, signal?: AbortSignal): Promise<StepResult> {
    if (!this.#session) throw new Error('the world model has no session: reset it first');
    const checked = this.parseAction(action);
    if (!checked.ok) throw new Error(checked.error);
    const step = this.#step + 1;
    const request: WorldModelRequest = {
      kind: 'step',
      session: this.#session,
      body: { step, action: checked.action },
    };
    const answer = stepResponse.safeParse(await this.#request(request, `step ${step}`, signal));
    if (!answer.success) throw this.#malformed(`step ${step}`, answer.error);
    this.#step = step;
    const info = (answer.data.info ?? {}) as { [key: string]: JsonValue };
    return {
      observation: this.#observe(answer.data.frame.data, answer.data.text, info),
      reward: answer.data.reward ?? 0,
      terminated: answer.data.terminated ?? false,
      truncated: false,
      info,
    };
  }

  async close(): Promise<void> {
    await this.#endSession();
    await this.#transport.close();
  }

  async #endSession(): Promise<void> {
    const session = this.#session;
    if (!session) return;
    this.#session = undefined;
    await this.#transport.end(session);
  }

  #observe(
    data: string,
    text: string | undefined,
    info: { [key: string]: JsonValue },
  ): Observation {
    const bytes = Buffer.from(data, 'base64');
    const size = pngSize(bytes);
    if (!size) throw new Error(`the world model at ${this.#url} sent a frame that is not a PNG`);
    const image: ObservationImage = {
      mediaType: 'image/png',
      digest: this.frames.put(bytes),
      ...size,
      data,
    };
    return {
      ...(text !== undefined ? { text } : {}),
      // Not the server's session id: a world replayed in a new session is the same world, and
      // its observations must have the same digests.
      state: { step: this.#step, info },
      images: [image],
    };
  }

  /** Sends a request; a dropped connection is tried again, a refusal is one line with the server's reason. */
  async #request(request: WorldModelRequest, what: string, signal?: AbortSignal): Promise<unknown> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      signal?.throwIfAborted();
      const timeout = AbortSignal.timeout(this.#timeoutMs);
      let answer: WorldModelAnswer;
      try {
        answer = await this.#transport.send(
          request,
          signal ? AbortSignal.any([signal, timeout]) : timeout,
        );
      } catch (error) {
        // No answer (dropped, refused connect, timed out): the same request is sent again.
        signal?.throwIfAborted();
        lastError = error;
        continue;
      }
      if (answer.status < 200 || answer.status >= 300) {
        const reason = reasonOf(answer) ?? `HTTP ${answer.status}`;
        if (answer.status >= 500 && attempt < attempts) {
          lastError = new Error(reason);
          continue;
        }
        throw new Error(
          answer.status === 400 || answer.status === 422
            ? `the world model refused ${what}: ${reason}`
            : `the world model at ${this.#url} failed ${what} (HTTP ${answer.status}): ${reason}`,
        );
      }
      if (answer.body === undefined) {
        throw new Error(
          `the world model at ${this.#url} answered ${what} with something that is not JSON`,
        );
      }
      return answer.body;
    }
    throw new Error(
      `the world model at ${this.#url} dropped the connection during ${what} (tried ${attempts} times): ${causeOf(lastError)}`,
    );
  }

  #malformed(what: string, error: z.ZodError): Error {
    const issue = error.issues[0]!;
    return new Error(
      `the world model at ${this.#url} answered ${what} in an unknown shape (${issue.path.join('.') || 'body'}: ${issue.message}); see docs/environments.md for the wire format`,
    );
  }
}

function reasonOf(answer: WorldModelAnswer): string | undefined {
  const error = (answer.body as { error?: unknown } | undefined)?.error;
  if (typeof error === 'string') return error.slice(0, 500);
  const text = answer.text.trim();
  return text ? text.slice(0, 500) : undefined;
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  return cause instanceof Error ? cause.message : errorMessage(error);
}
