import { defineTool, z } from 'agentd';

/** Counts the words and characters of a short text: deterministic, so a run shows what the model sent. */
export const countWords = defineTool({
  name: 'count_words',
  description: 'Count the words and characters of a short text (at most 40 characters).',
  input: z.object({
    text: z.string().max(40).describe('the text to count'),
  }),
  idempotent: true,
  execute({ text }) {
    const words = text.split(/\s+/).filter((w) => w.length > 0).length;
    return { words, characters: [...text].length };
  },
});
