import type { GetPromptResult, ReadResourceResult } from '@modelcontextprotocol/client';
import { z } from 'zod';
import { defineTool } from '../define-tool.ts';
import type { Tool } from '../tool.ts';
import type { McpConnection } from './mcp-connection.ts';
import { modelToolName } from './tool-name.ts';

/**
 * A server's resources as two tools an agent can call (`resources:<server>` in a spec):
 * `<server>__list_resources` (resources and templates) and `<server>__read_resource`.
 * Both only read, so both are safe to repeat.
 */
export function resourceTools(connection: McpConnection, taken: Set<string>): Tool[] {
  const server = connection.name;
  return [
    defineTool({
      name: modelToolName(server, 'list_resources', taken),
      description: `List the resources (files, documents, records) the ${server} MCP server offers, with their URIs, and the URI templates it can fill in.`,
      input: z.object({}),
      idempotent: true,
      async execute(_input, context) {
        const [resources, templates] = await Promise.all([
          connection.listResources({ signal: context.signal }),
          connection.listResourceTemplates({ signal: context.signal }).catch(() => []),
        ]);
        const lines = resources.map(
          (r) =>
            `${r.uri}${r.name && r.name !== r.uri ? ` — ${r.name}` : ''}${r.mimeType ? ` (${r.mimeType})` : ''}${r.description ? `: ${r.description}` : ''}`,
        );
        for (const t of templates) {
          lines.push(
            `template ${t.uriTemplate}${t.name ? ` — ${t.name}` : ''}${t.description ? `: ${t.description}` : ''}`,
          );
        }
        return lines.length ? lines.join('\n') : `${server} offers no resources.`;
      },
    }),
    defineTool({
      name: modelToolName(server, 'read_resource', taken),
      description: `Read a resource of the ${server} MCP server by its URI (see ${server}__list_resources).`,
      input: z.object({ uri: z.string().min(1).describe('the resource URI') }),
      idempotent: true,
      async execute({ uri }, context) {
        return resourceText(await connection.readResource(uri, { signal: context.signal }));
      },
    }),
  ];
}

/** A resource's contents as text: text parts as they are, binary parts described. */
export function resourceText(result: ReadResourceResult): string {
  return result.contents
    .map((part) => {
      if ('text' in part && typeof part.text === 'string') return part.text;
      const blob = 'blob' in part && typeof part.blob === 'string' ? part.blob : '';
      return `[binary resource ${part.uri}${part.mimeType ? `, ${part.mimeType}` : ''}, ${Math.floor((blob.length * 3) / 4)} bytes]`;
    })
    .join('\n');
}

/**
 * An MCP prompt's messages as one task text: each message's text, a resource it embeds as
 * its text, and, when the prompt has more than one message, who says what.
 */
export function promptText(result: GetPromptResult): string {
  const parts = result.messages.map((message) => {
    const content = message.content;
    let text: string;
    switch (content.type) {
      case 'text':
        text = content.text;
        break;
      case 'resource':
        text =
          'text' in content.resource && typeof content.resource.text === 'string'
            ? content.resource.text
            : `[binary resource ${content.resource.uri}]`;
        break;
      case 'resource_link':
        text = `[resource ${content.uri}]`;
        break;
      default:
        text = `[${content.type}]`;
    }
    return { role: message.role, text };
  });
  if (parts.length === 1) return parts[0]!.text;
  return parts.map((p) => `${p.role}: ${p.text}`).join('\n\n');
}
