import { AgentdError } from './errors.ts';

/**
 * Run tags: labels people give runs to find them again (`team=search`, `dataset:v2`, `good`).
 * A tag is a `key=value` pair or a bare name, 1 to 64 of `A-Z a-z 0-9 _ . : / = -`; a run has
 * at most 32. Tags are a set: the same tag twice is one tag, `env=dev` and `env=prod` are two.
 */
export const maxTagsPerRun = 32;
export const maxTagLength = 64;
export const tagPattern = /^[A-Za-z0-9_.:/=-]{1,64}$/;

/** The rule for a tag, as a person reads it. */
export const tagRule = `1 to ${maxTagLength} of A-Z a-z 0-9 _ . : / = - (key=value or a name)`;

/** Why a tag is not one, or undefined when it is. */
export function tagProblem(tag: string): string | undefined {
  if (tagPattern.test(tag)) return undefined;
  if (tag.length === 0) return 'is empty';
  if (tag.length > maxTagLength) return `is ${tag.length} characters (at most ${maxTagLength})`;
  const bad = [...tag].find((c) => !/[A-Za-z0-9_.:/=-]/.test(c))!;
  return `has ${JSON.stringify(bad)} (a tag is ${tagRule})`;
}

/**
 * Tags as given (`where` names their source: `--tag`, a file's field), checked and with
 * repeats dropped, in the order given; a bad tag throws one line naming it.
 */
export function checkTags(tags: readonly string[], where: string): string[] {
  const out: string[] = [];
  for (const tag of tags) {
    const problem = tagProblem(tag);
    if (problem)
      throw new AgentdError('tag_invalid', `${where}: tag ${JSON.stringify(tag)} ${problem}`);
    if (!out.includes(tag)) out.push(tag);
  }
  if (out.length > maxTagsPerRun) {
    throw new AgentdError(
      'tag_invalid',
      `${where}: ${out.length} tags; a run has at most ${maxTagsPerRun}`,
    );
  }
  return out;
}

/** Tags from two sources (an agent's spec, then the run's own), repeats dropped. */
export function mergeTags(first: readonly string[] = [], second: readonly string[] = []): string[] {
  return [...new Set([...first, ...second])];
}

/** A run's tags after a change: `removed` taken away, then `added` put on, sorted. */
export function applyTagChange(
  tags: readonly string[],
  change: { added: readonly string[]; removed: readonly string[] },
): string[] {
  const set = new Set(tags);
  for (const tag of change.removed) set.delete(tag);
  for (const tag of change.added) set.add(tag);
  return [...set].sort();
}
