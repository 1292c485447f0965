/** Server-sent event framing: optional `event:` line, one `data:` line, then a blank line. */
export function sseFrame(data: unknown, event?: string): string {
  const json = JSON.stringify(data);
  return event ? `event: ${event}\ndata: ${json}\n\n` : `data: ${json}\n\n`;
}

/** The sentinel that ends an OpenAI Chat Completions stream. */
export const doneFrame = 'data: [DONE]\n\n';
