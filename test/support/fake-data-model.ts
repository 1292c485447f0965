import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local OpenAI-compatible Chat Completions server (streamed, with usage) whose answer is a pure
 * function of the request, for designs: the same prompt always gets the same answer, whichever
 * process asks and however often, so a generation killed and resumed can be compared with one
 * that ran through. `latencyMs` holds each answer back that long.
 *
 * - a judge prompt ("Answer with JSON only: {"rubric": {"score": ...") gets every rubric scored
 *   3, or 1 when the prompt says LOW;
 * - a structured prompt ("valid against this JSON Schema") gets {"echo": <first line>}, except
 *   that a prompt saying BROKEN gets text that is not JSON (and so does its repair when it says
 *   BROKEN-ALWAYS);
 * - anything else gets "echo: <first line of the prompt>".
 */
export class FakeDataModel {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #origin = '';
  requests = 0;
  latencyMs: number;

  private constructor(latencyMs: number) {
    this.latencyMs = latencyMs;
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: { latencyMs?: number } = {}): Promise<FakeDataModel> {
    const fake = new FakeDataModel(options.latencyMs ?? 0);
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    fake.#origin = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  get baseUrl(): string {
    return `${this.#origin}/v1`;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    this.requests++;
    const body = JSON.parse(raw || '{}') as {
      model?: string;
      messages?: { role: string; content: unknown }[];
    };
    const messages = body.messages ?? [];
    const text = (c: unknown) =>
      typeof c === 'string'
        ? c
        : Array.isArray(c)
          ? c.map((p: { text?: string }) => p.text ?? '').join('')
          : '';
    const users = messages.filter((m) => m.role === 'user').map((m) => text(m.content));
    const prompt = users[0] ?? '';
    const repair = users.length > 1;
    const answer = answerFor(prompt, repair);
    if (this.latencyMs) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const base = {
      id: 'chatcmpl-fake',
      object: 'chat.completion.chunk',
      created: 0,
      model: body.model ?? 'fake',
    };
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.end(
      chunk({ role: 'assistant', content: '' }) +
        chunk({ content: answer }) +
        chunk({}, 'stop') +
        `data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: Math.ceil(prompt.length / 4), completion_tokens: Math.ceil(answer.length / 4), total_tokens: Math.ceil((prompt.length + answer.length) / 4) } })}\n\n` +
        'data: [DONE]\n\n',
    );
  }
}

function answerFor(prompt: string, repair: boolean): string {
  const judge = /Answer with JSON only: \{(.*)\}\s*$/s.exec(prompt);
  if (judge) {
    const score = prompt.includes('LOW') ? 1 : 3;
    const names = [...judge[1]!.matchAll(/"(\w+)": \{"score"/g)].map((m) => m[1]!);
    return JSON.stringify(
      Object.fromEntries(names.map((n) => [n, { score, reasoning: `scored ${score}` }])),
    );
  }
  const firstLine = prompt.split('\n')[0]!;
  if (prompt.includes('valid against this JSON Schema')) {
    if (prompt.includes('BROKEN-ALWAYS') || (prompt.includes('BROKEN') && !repair))
      return `Sure! ${firstLine}`;
    return JSON.stringify({ echo: firstLine });
  }
  return `echo: ${firstLine}`;
}
