/** What the fake model reads from a Chat Completions request body. */
export interface Conversation {
  /** The run's tag, from the task in the first user message. */
  tag: string | undefined;
  /** Tool results so far. */
  results: number;
  /** Sum of the tool results, read as numbers (NaN when one is not a number). */
  total: number;
}

interface ChatMessage {
  role?: unknown;
  content?: unknown;
}

export function readConversation(messages: readonly ChatMessage[]): Conversation {
  let tag: string | undefined;
  let results = 0;
  let total = 0;
  for (const message of messages) {
    if (message.role === 'user' && tag === undefined) {
      tag = /^Run ([A-Za-z0-9_-]+)\./.exec(textOf(message.content))?.[1];
    } else if (message.role === 'tool') {
      results++;
      total += Number(unquote(textOf(message.content).trim()));
    }
  }
  return { tag, results, total };
}

/** Content is a string or a list of text parts, depending on the client. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    let text = '';
    for (const part of content) {
      if (typeof part === 'object' && part !== null && typeof part.text === 'string') {
        text += part.text;
      }
    }
    return text;
  }
  return '';
}

/** Some clients JSON-encode a string tool result; the number inside is what counts. */
function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}
