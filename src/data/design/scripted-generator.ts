import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AgentdError, errorMessage } from '../../core/errors.ts';
import { estimateTokens } from '../../core/tokens.ts';
import { parseYamlFile } from '../../definition/yaml-file.ts';
import { type CatalogEntry, findModel } from '../../models/catalog.ts';
import type { Model, ModelRequest, ModelStreamPart } from '../../models/model.ts';
import { SCRIPTED_PREFIX } from '../../models/scripted-model.ts';

const scriptSchema = z.strictObject({
  description: z.string().optional(),
  replies: z
    .array(
      z.strictObject({
        /** A regular expression the prompt must match; its named groups fill `{{name}}` in the reply. */
        match: z
          .string()
          .min(1)
          .superRefine((value, ctx) => {
            try {
              new RegExp(value, 'su');
            } catch (error) {
              ctx.addIssue({
                code: 'custom',
                message: `not a regular expression: ${errorMessage(error)}`,
              });
            }
          })
          .optional(),
        /** Text (prefixed `[scripted] `), or a mapping written as JSON (structured and judge columns). */
        reply: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]),
      }),
    )
    .min(1),
});

/**
 * A stand-in for a generating model, for offline designs and CI: answers each prompt with a reply
 * whose `match` fits it, chosen among those by a hash of the prompt (the same prompt always gets
 * the same reply; different rows get different ones). Text replies start with `[scripted]`, so
 * nobody takes them for a model's. A prompt no reply fits gets an answer that says so.
 */
export class ScriptedGenerator implements Model {
  readonly provider = 'scripted' as const;
  readonly id: string;
  readonly entry: CatalogEntry | undefined;
  readonly #replies: { match?: RegExp; reply: string; json: boolean }[];

  constructor(id: string, path: string) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new AgentdError(
        'spec_not_found',
        `${path}: script of replies not found (check the design's models.*.script)`,
      );
    }
    const script = parseYamlFile(path, text, scriptSchema);
    this.id = id;
    this.entry = findModel('scripted', id);
    this.#replies = script.replies.map((r) => ({
      ...(r.match ? { match: new RegExp(r.match, 'su') } : {}),
      reply: typeof r.reply === 'string' ? r.reply : JSON.stringify(r.reply),
      json: typeof r.reply !== 'string',
    }));
  }

  async *stream(request: ModelRequest): AsyncIterable<ModelStreamPart> {
    const prompt = request.messages.map((m) => (m.role === 'user' ? m.text : '')).join('\n');
    // a repair asks again after the last user message: the reply to it is chosen from the last
    const last = request.messages.findLast((m) => m.role === 'user');
    const asked = last && last.role === 'user' ? last.text : prompt;
    const fits = this.#replies.filter((r) => !r.match || r.match.test(asked));
    let text: string;
    if (!fits.length) {
      text = `${SCRIPTED_PREFIX}no reply in the script fits this prompt`;
    } else {
      const digest = createHash('sha256').update(prompt).digest();
      const chosen = fits[digest.readUInt32BE(0) % fits.length]!;
      const groups = chosen.match?.exec(asked)?.groups ?? {};
      const filled = chosen.reply.replace(
        /\{\{\s*(\w+)\s*\}\}/g,
        (_, key: string) => groups[key] ?? '',
      );
      text = chosen.json ? filled : SCRIPTED_PREFIX + filled;
    }
    yield { type: 'text-delta', text };
    yield {
      type: 'finish',
      stopReason: 'end_turn',
      usage: {
        inputTokens: estimateTokens(request.instructions) + estimateTokens(prompt),
        outputTokens: estimateTokens(text),
        cachedInputTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      },
    };
  }
}
