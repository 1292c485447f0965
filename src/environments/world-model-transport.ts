import type { JsonValue } from '../core/messages.ts';

/** One request to a world-model server: start a session, or send one numbered step of it. */
export type WorldModelRequest =
  | {
      kind: 'start';
      body: {
        prompt: string;
        seed: number;
        image?: { media_type: 'image/png'; data: string };
      };
    }
  | { kind: 'step'; session: string; body: { step: number; action: JsonValue } };

/**
 * What the server answered: a status with HTTP's meanings (200; 400 and 422 refused; 409 out
 * of order; 5xx failed) and the body, parsed (undefined when it is not JSON).
 */
export interface WorldModelAnswer {
  status: number;
  body: unknown;
  text: string;
}

/**
 * How requests reach a world-model server: over HTTP (one request a step) or over one
 * WebSocket (one message a step). `send` resolves with whatever the server answered and
 * throws only when no answer came (a dropped connection, a refused connect, the signal): the
 * adapter then sends the same request again, and the step number makes it happen once.
 */
export interface WorldModelTransport {
  send(request: WorldModelRequest, signal: AbortSignal): Promise<WorldModelAnswer>;
  /** Ends a session; best effort (a server that is gone has ended it anyway). */
  end(session: string): Promise<void>;
  /** Lets go of connections. */
  close(): Promise<void>;
}

/** The HTTP wire format: `POST /v1/sessions`, `POST /v1/sessions/<id>/actions`, `DELETE`. */
export class HttpWorldModelTransport implements WorldModelTransport {
  readonly #url: string;
  readonly #headers: Record<string, string>;

  constructor(url: string, token: string | undefined) {
    this.#url = url;
    this.#headers = {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    };
  }

  async send(request: WorldModelRequest, signal: AbortSignal): Promise<WorldModelAnswer> {
    const path =
      request.kind === 'start'
        ? '/v1/sessions'
        : `/v1/sessions/${encodeURIComponent(request.session)}/actions`;
    const response = await fetch(this.#url + path, {
      method: 'POST',
      headers: this.#headers,
      body: JSON.stringify(request.body),
      signal,
    });
    // A connection dropped while the answer came throws here, like one dropped before it.
    const text = await response.text();
    return { status: response.status, body: parseJson(text), text };
  }

  async end(session: string): Promise<void> {
    await fetch(`${this.#url}/v1/sessions/${encodeURIComponent(session)}`, {
      method: 'DELETE',
      headers: this.#headers,
      signal: AbortSignal.timeout(5_000),
    })
      .then((response) => response.body?.cancel())
      .catch(() => undefined);
  }

  async close(): Promise<void> {}
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
