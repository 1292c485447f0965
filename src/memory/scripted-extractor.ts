import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AgentdError, errorMessage } from '../core/errors.ts';
import { estimateTokens } from '../core/tokens.ts';
import { parseYamlFile } from '../definition/yaml-file.ts';
import { type CatalogEntry, findModel } from '../models/catalog.ts';
import type { Model, ModelRequest, ModelStreamPart } from '../models/model.ts';
import { SCRIPTED_PREFIX } from '../models/scripted-model.ts';

const evidenceRef = z.union([
  z.int().min(0),
  z.enum(['task', 'answer']),
  z.string().regex(/^tool:[\w-]+$/, 'write task, answer, tool:<tool name> or an event number'),
]);

const scriptSchema = z.strictObject({
  description: z.string().optional(),
  extractions: z
    .array(
      z.strictObject({
        /** Applies when this regular expression matches the transcript (always, without one). */
        match: z
          .string()
          .min(1)
          .superRefine((value, ctx) => {
            try {
              new RegExp(value, 'i');
            } catch (error) {
              ctx.addIssue({
                code: 'custom',
                message: `not a regular expression: ${errorMessage(error)}`,
              });
            }
          })
          .optional(),
        memories: z.array(
          z.strictObject({
            kind: z.enum(['preference', 'fact', 'summary', 'episode']),
            text: z.string().min(1),
            key: z.string().optional(),
            evidence: z.array(evidenceRef).default(['task']),
            replaces: z.string().optional(),
          }),
        ),
      }),
    )
    .min(1),
});

export type ExtractionScript = z.output<typeof scriptSchema>;

export function loadExtractionScript(path: string): ExtractionScript {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new AgentdError(
      'spec_not_found',
      `${path}: extraction script not found (check memory.extraction.script in the spec)`,
    );
  }
  return parseYamlFile(path, text, scriptSchema);
}

/**
 * A deterministic stand-in for the extraction model, for tests and offline demos: every
 * extraction whose `match` finds the transcript contributes its memories, with evidence named
 * as `task`, `answer` (the model's last words) or `tool:<name>` (that tool's latest output)
 * resolved against the transcript's event numbers. Its answer is the JSON a model would give,
 * so the rest of extraction (attribution, consolidation) is the same as with a model. Texts may
 * quote `{{task}}` and `{{answer}}`.
 */
export class ScriptedExtractor implements Model {
  readonly provider = 'scripted' as const;
  readonly id: string;
  readonly entry: CatalogEntry | undefined;
  readonly #script: ExtractionScript;

  constructor(id: string, script: ExtractionScript) {
    this.id = id;
    this.#script = script;
    this.entry = findModel('scripted', id);
  }

  async *stream(request: ModelRequest): AsyncIterable<ModelStreamPart> {
    const prompt = request.messages.map((m) => (m.role === 'user' ? m.text : '')).join('\n');
    const start = prompt.search(/^Transcript \(run [^)]*\):$/m);
    const transcript = start === -1 ? prompt : prompt.slice(start);
    const lines = [...transcript.matchAll(/^\[#(\d+) (user|model|tool ([\w-]+))\]/gm)].map((m) => ({
      seq: Number(m[1]),
      source: m[2]!.startsWith('tool') ? 'tool' : m[2]!,
      tool: m[3],
    }));
    const resolve = (ref: z.output<typeof evidenceRef>): number[] => {
      if (typeof ref === 'number') return [ref];
      if (ref === 'task')
        return lines
          .filter((l) => l.source === 'user')
          .map((l) => l.seq)
          .slice(0, 1);
      if (ref === 'answer')
        return lines
          .filter((l) => l.source === 'model')
          .map((l) => l.seq)
          .slice(-1);
      const tool = ref.slice('tool:'.length);
      return lines
        .filter((l) => l.tool === tool)
        .map((l) => l.seq)
        .slice(-1);
    };
    // {{task}} and {{answer}}: the run's task and the model's last words, as the transcript has them.
    const said = (pattern: RegExp) => [...transcript.matchAll(pattern)].map((m) => m[1]!.trim());
    const task = said(/^\[#\d+ user\] (.*)$/gm)[0] ?? '';
    const answer = said(/^\[#\d+ model\] (.*)$/gm).at(-1) ?? '';
    const fill = (text: string) =>
      text.replace(/\{\{\s*(task|answer)\s*\}\}/g, (_, key: string) =>
        key === 'task' ? task : answer,
      );
    const memories = this.#script.extractions
      .filter((e) => !e.match || new RegExp(e.match, 'i').test(transcript))
      .flatMap((e) =>
        e.memories.map((m) => ({
          kind: m.kind,
          text: fill(m.text),
          key: m.key ?? null,
          evidence: [...new Set(m.evidence.flatMap(resolve))],
          replaces: m.replaces ?? null,
        })),
      );
    const text = `${SCRIPTED_PREFIX}${JSON.stringify({ memories })}`;
    yield { type: 'text-delta', text };
    yield {
      type: 'finish',
      stopReason: 'end_turn',
      usage: {
        inputTokens: estimateTokens(prompt) + estimateTokens(request.instructions),
        outputTokens: estimateTokens(text),
        cachedInputTokens: 0,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      },
    };
  }
}
