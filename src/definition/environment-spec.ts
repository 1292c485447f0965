import { resolve } from 'node:path';
import { z } from 'zod';

/** `environment:` of an agent spec, or of an eval case: the world the agent acts in. */
export const environmentSpecSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('gridworld'),
    seed: z.int().min(0).optional(),
    goal: z.string().min(1).optional(),
    max_steps: z.int().positive().max(10_000).optional(),
    /** Width and height inside the outer walls. */
    size: z.int().min(5).max(15).optional(),
    /** Locked doors, each with its key before it. */
    doors: z.int().min(0).max(3).optional(),
    /** Share of the free cells that become walls. */
    walls: z.number().min(0).max(0.4).optional(),
  }),
  z.strictObject({
    kind: z.literal('world-model'),
    seed: z.int().min(0).optional(),
    goal: z.string().min(1).optional(),
    max_steps: z.int().positive().max(10_000).optional(),
    /**
     * The world-model server: `http(s)://host:port`, or `ws(s)://host:port/path` for its
     * WebSocket (see docs/environments.md for both wire formats). The URL is logged with the
     * episode, so a token never goes in it: `api_key_env` sends it as a header.
     */
    url: z
      .url({
        protocol: /^(https?|wss?)$/,
        error: 'write the server as http(s)://host:port or ws(s)://host:port/path',
      })
      .refine((url) => !/^[a-z]+:\/\/[^/?#]*@/i.test(url), {
        error: 'a URL with credentials is logged with the episode; put the token in api_key_env',
      }),
    /** What world to start: text-to-world. */
    prompt: z.string().min(1),
    /** A start image (PNG, relative to the spec): image+text-to-world. */
    image: z.string().min(1).optional(),
    /** Environment variable holding the server's bearer token, if it wants one. */
    api_key_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
      .optional(),
    /** How long one step may take. */
    timeout_ms: z.int().positive().max(600_000).optional(),
  }),
]);

export type EnvironmentSpecInput = z.output<typeof environmentSpecSchema>;

/** An environment as a run uses it: its settings, paths resolved. */
export type EnvironmentSpec = EnvironmentSpecInput & { seed: number; max_steps: number };

export const defaultMaxSteps = 100;

/** The spec's environment with defaults, its image path resolved against `dir`. */
export function environmentSpec(raw: EnvironmentSpecInput, dir: string): EnvironmentSpec {
  const spec: EnvironmentSpec = {
    ...raw,
    seed: raw.seed ?? 0,
    max_steps: raw.max_steps ?? defaultMaxSteps,
  };
  if (spec.kind === 'world-model' && spec.image) spec.image = resolve(dir, spec.image);
  return spec;
}
