/**
 * A guard run on policy text before Cedar sees it. Cedar's parser recurses once per nested
 * bracket and per operator of a chain; compiled to WebAssembly, a policy nested ~120 deep (or
 * a chain of ~3,000 `&&`, `.a` or `+`) runs it out of stack, and after that the engine's
 * instance is broken for every later call in the process. Real policies nest a few levels and
 * use tens of operators; the limits below leave the engine most of its stack.
 */

/** Deepest nesting of `(`, `[` and `{` a policy may have. */
export const maxPolicyNesting = 64;
/** Most operators and attribute or method accesses (`.`) one policy may hold. */
export const maxPolicyChain = 256;

export interface PolicyDepthProblem {
  /** UTF-16 offset in the text where the limit was passed. */
  offset: number;
  message: string;
}

const opening = new Set(['(', '[', '{']);
const closing = new Set([')', ']', '}']);
const twoCharOperators = new Set(['&&', '||', '==', '!=', '<=', '>=']);
const oneCharOperators = new Set(['.', '<', '>', '+', '-', '*', '!']);
const keywordOperators = new Set(['if', 'in', 'has', 'like', 'is']);

/**
 * The first place the text passes a limit, or undefined. Counts outside string literals and
 * `//` comments; a policy ends at a `;` outside any bracket (the chain count starts again).
 */
export function policyDepthProblem(text: string): PolicyDepthProblem | undefined {
  let depth = 0;
  let chain = 0;
  let i = 0;
  const n = text.length;
  const chainProblem = (offset: number): PolicyDepthProblem => ({
    offset,
    message: `policy has more than ${maxPolicyChain} operators and attribute accesses; split it into several policies`,
  });
  while (i < n) {
    const c = text[i] as string;
    if (c === '"') {
      i++;
      while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (opening.has(c)) {
      depth++;
      if (depth > maxPolicyNesting) {
        return {
          offset: i,
          message: `policy nests brackets, parentheses or braces more than ${maxPolicyNesting} deep; write the condition flatter or split it into several policies`,
        };
      }
      i++;
      continue;
    }
    if (closing.has(c)) {
      depth = Math.max(0, depth - 1);
      i++;
      continue;
    }
    if (c === ';' && depth === 0) {
      chain = 0;
      i++;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (twoCharOperators.has(two)) {
      if (++chain > maxPolicyChain) return chainProblem(i);
      i += 2;
      continue;
    }
    if (oneCharOperators.has(c)) {
      if (++chain > maxPolicyChain) return chainProblem(i);
      i++;
      continue;
    }
    if (isWordChar(c)) {
      const start = i;
      while (i < n && isWordChar(text[i] as string)) i++;
      if (keywordOperators.has(text.slice(start, i)) && ++chain > maxPolicyChain) {
        return chainProblem(start);
      }
      continue;
    }
    i++;
  }
  return undefined;
}

function isWordChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_';
}
