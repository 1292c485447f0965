import { defineTool, z } from 'agentd';

const step = z.object({
  title: z.string().min(1),
  status: z.enum(['todo', 'doing', 'done']),
  commit: z.string().min(1).optional().describe('The commit that checkpoints it, once done'),
});

/**
 * The coder's task list. Its latest result is pinned through compaction (agent.yaml:
 * compaction.pin), so a long run keeps its plan, the failing test output it is working on and
 * the files it changed, word for word, however much of the conversation gives way to a summary.
 */
export const updatePlan = defineTool({
  name: 'update_plan',
  description:
    'Record the plan as steps (todo, doing, done), the output of the test that fails now (if any) and the files changed so far. Call it when you plan, when a step changes, and when a test starts or stops failing. Its latest result always stays in your context.',
  input: z.object({
    steps: z.array(step).min(1),
    failing: z
      .string()
      .optional()
      .describe('The failing test output you are working on (the relevant lines)'),
    changed_files: z.array(z.string().min(1)).default([]),
  }),
  idempotent: true,
  execute: ({ steps, failing, changed_files: changed }) => {
    const mark = { todo: '[ ]', doing: '[>]', done: '[x]' };
    const lines = [
      `Plan (${steps.filter((s) => s.status === 'done').length} of ${steps.length} done):`,
      ...steps.map(
        (s, i) => `${mark[s.status]} ${i + 1}. ${s.title}${s.commit ? ` (${s.commit})` : ''}`,
      ),
      `Changed files: ${changed.length ? changed.join(', ') : 'none yet'}`,
    ];
    if (failing?.trim()) lines.push('Failing now:', failing.trim());
    return lines.join('\n');
  },
});
