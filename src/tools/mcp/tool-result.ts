import type { CallToolResult, ContentBlock } from '@modelcontextprotocol/client';

/**
 * The text a model is given for an MCP tool result: the text blocks joined, other blocks
 * described in a line, and the structured content as JSON unless the text already says all
 * it says (the same JSON, as servers are asked to send, or every value of it, as
 * server-filesystem's `{ content }` does): a file read is not sent to the model twice.
 */
export function toolResultText(result: CallToolResult): string {
  const text = result.content.map(contentText).join('\n');
  const structured = result.structuredContent;
  if (structured === undefined || structured === null) return text;
  const json = JSON.stringify(structured);
  if (sameJson(text, structured) || coveredBy(text, structured)) return text;
  return text ? `${text}\n${json}` : json;
}

function contentText(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
    case 'audio':
      return `[${block.type}: ${block.mimeType}, ${base64Bytes(block.data)} bytes]`;
    case 'resource_link':
      return `[resource link: ${block.uri}${block.name ? ` (${block.name})` : ''}]`;
    case 'resource': {
      const resource = block.resource;
      if ('text' in resource && typeof resource.text === 'string') return resource.text;
      const blob = 'blob' in resource && typeof resource.blob === 'string' ? resource.blob : '';
      return `[resource: ${resource.uri}${resource.mimeType ? `, ${resource.mimeType}` : ''}, ${base64Bytes(blob)} bytes]`;
    }
    default:
      return `[${(block as { type: string }).type} content]`;
  }
}

function base64Bytes(data: string): number {
  return Math.floor((data.length * 3) / 4) - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);
}

function sameJson(text: string, value: unknown): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(value);
  } catch {
    return false;
  }
}

/** Every value in `value` (strings, numbers, booleans) appears in `text`. */
function coveredBy(text: string, value: unknown): boolean {
  if (!text) return false;
  if (typeof value === 'string') return text.includes(value);
  if (typeof value === 'number' || typeof value === 'boolean') return text.includes(String(value));
  if (value === null) return true;
  if (Array.isArray(value)) return value.every((item) => coveredBy(text, item));
  if (typeof value === 'object') return Object.values(value).every((item) => coveredBy(text, item));
  return false;
}
