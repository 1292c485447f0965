/** One server-sent event carrying a JSON chunk, as OpenAI streams them. */
export function sseData(value: unknown): string {
  return `data: ${JSON.stringify(value)}\n\n`;
}

export const sseDone = 'data: [DONE]\n\n';
