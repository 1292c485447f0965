import { defineTool, z } from 'agentd';

const step = z.object({
  id: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/)
    .optional()
    .describe(
      'A short id (a, b, parse-config); default: its number. Ids name the team board tasks too',
    ),
  title: z.string().min(1),
  status: z.enum(['todo', 'doing', 'done']),
  depends_on: z
    .array(z.string())
    .optional()
    .describe(
      'Ids of the steps whose changes this one needs; [] when it needs none. Left out: the step before it (a plan without depends_on is one chain)',
    ),
  commit: z.string().min(1).optional().describe('The commit that checkpoints it, once done'),
});

type Step = Omit<z.output<typeof step>, 'depends_on'> & { id: string; depends_on: string[] };

/**
 * The shape of a plan: its steps not done yet form one chain (each needs the one before, so
 * they are done in order by one agent), or have independent parts: two or more of them with no
 * path of `depends_on` between them, which a team can do at once (team.yaml).
 */
export function planShape(
  steps: readonly Step[],
): { kind: 'chain' | 'parallel'; independent: string[] } | { error: string } {
  const byId = new Map(steps.map((s) => [s.id, s]));
  if (byId.size !== steps.length) return { error: 'two steps have the same id' };
  for (const s of steps) {
    const unknown = s.depends_on.find((d) => !byId.has(d));
    if (unknown !== undefined)
      return { error: `step ${s.id} depends on "${unknown}", which is not a step` };
  }
  // Everything each step needs, directly or not (a circle is an error).
  const needs = new Map<string, Set<string>>();
  const visiting = new Set<string>();
  const reach = (id: string): Set<string> | undefined => {
    const known = needs.get(id);
    if (known) return known;
    if (visiting.has(id)) return undefined;
    visiting.add(id);
    const out = new Set<string>();
    for (const dep of byId.get(id)!.depends_on) {
      const deeper = reach(dep);
      if (!deeper) return undefined;
      out.add(dep);
      for (const d of deeper) out.add(d);
    }
    visiting.delete(id);
    needs.set(id, out);
    return out;
  };
  for (const s of steps) {
    if (!reach(s.id)) return { error: `the steps' depends_on go in a circle through ${s.id}` };
  }
  const open = steps.filter((s) => s.status !== 'done');
  const independent = new Set<string>();
  for (const [i, a] of open.entries()) {
    for (const b of open.slice(i + 1)) {
      if (!needs.get(a.id)!.has(b.id) && !needs.get(b.id)!.has(a.id)) {
        independent.add(a.id);
        independent.add(b.id);
      }
    }
  }
  return independent.size
    ? { kind: 'parallel', independent: [...independent] }
    : { kind: 'chain', independent: [] };
}

/**
 * The coder's task list. Its latest result is pinned through compaction (agent.yaml:
 * compaction.pin), so a long run keeps its plan, the failing test output it is working on and
 * the files it changed, word for word, however much of the conversation gives way to a summary.
 * It also says the plan's shape: one chain of dependent steps, or independent parts.
 */
export const updatePlan = defineTool({
  name: 'update_plan',
  description:
    'Record the plan as steps (id, title, status todo/doing/done, depends_on: the ids of steps whose changes a step needs), the output of the test that fails now (if any) and the files changed so far. Call it when you plan, when a step changes, and when a test starts or stops failing. Its latest result always stays in your context, and says whether the steps left are one chain or have independent parts.',
  input: z.object({
    steps: z.array(step).min(1),
    failing: z
      .string()
      .optional()
      .describe('The failing test output you are working on (the relevant lines)'),
    changed_files: z.array(z.string().min(1)).default([]),
  }),
  idempotent: true,
  execute: ({ steps: given, failing, changed_files: changed }) => {
    const ids = given.map((s, i) => s.id ?? String(i + 1));
    // Without depends_on a step follows the one before it: independent only when said so.
    const steps: Step[] = given.map((s, i) => ({
      ...s,
      id: ids[i]!,
      depends_on: s.depends_on ?? (i > 0 ? [ids[i - 1]!] : []),
    }));
    const shape = planShape(steps);
    if ('error' in shape) return `Error: ${shape.error}; record the plan again`;
    const mark = { todo: '[ ]', doing: '[>]', done: '[x]' };
    const lines = [
      `Plan (${steps.filter((s) => s.status === 'done').length} of ${steps.length} done):`,
      ...steps.map(
        (s, i) =>
          `${mark[s.status]} ${i + 1}. ${s.title}${s.id !== String(i + 1) ? ` [${s.id}]` : ''}${given[i]!.depends_on?.length ? ` (after ${s.depends_on.join(', ')})` : ''}${s.commit ? ` (${s.commit})` : ''}`,
      ),
      shape.kind === 'parallel'
        ? `Shape: independent parts (${shape.independent.join(', ')} have no path of depends_on between them): in a team, put the steps on the board`
        : 'Shape: one chain of dependent steps: do them in order yourself',
      `Changed files: ${changed.length ? changed.join(', ') : 'none yet'}`,
    ];
    if (failing?.trim()) lines.push('Failing now:', failing.trim());
    return lines.join('\n');
  },
});
