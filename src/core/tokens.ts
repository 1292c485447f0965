import { type Message, resultText } from './messages.ts';

/**
 * About four characters a token: the usual estimate for English text and code. agentd uses
 * it only for what the provider has not counted yet; the provider's reported usage replaces
 * it after every response.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function messageTokens(message: Message): number {
  switch (message.role) {
    case 'user':
      return estimateTokens(message.text);
    case 'assistant':
      return (
        estimateTokens(message.text) +
        (message.toolCalls.length ? estimateTokens(JSON.stringify(message.toolCalls)) : 0)
      );
    case 'tool':
      return message.results.reduce((n, r) => n + estimateTokens(resultText(r.output)) + 4, 0);
  }
}
