/**
 * Text shaped like a credential, by kind. A dataset is published and trained on: one key in it
 * is a leak that no later redaction takes back, so an export or a generation that would write
 * one stops instead (the store already redacts keys it knows; this catches the rest).
 */
const keyShapes: { kind: string; pattern: RegExp }[] = [
  { kind: 'an Anthropic API key', pattern: /sk-ant-[A-Za-z0-9_-]{16,}/ },
  { kind: 'an OpenAI-style API key', pattern: /\bsk-(?:proj-|svcacct-|or-v1-)?[A-Za-z0-9_-]{20,}/ },
  { kind: 'a bearer token', pattern: /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/ },
  { kind: 'an AWS access key id', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  {
    kind: 'a GitHub token',
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})/,
  },
  { kind: 'a Slack token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/ },
  { kind: 'a Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { kind: 'an agentd API key', pattern: /\bagentd_[A-Za-z0-9_-]{20,}/ },
  { kind: 'a private key', pattern: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/ },
  { kind: 'a Stripe secret key', pattern: /\b[rs]k_live_[A-Za-z0-9]{20,}/ },
];

export interface SecretFinding {
  kind: string;
  /** The match with all but its first 6 characters masked: enough to find it, not to use it. */
  masked: string;
}

/**
 * The first credential-shaped text in `text`, or undefined. `secrets` are values known to be
 * secret (provider keys in the environment): found anywhere, they count too.
 */
export function findSecret(
  text: string,
  secrets: readonly string[] = [],
): SecretFinding | undefined {
  for (const secret of secrets) {
    if (secret.length >= 8 && text.includes(secret)) {
      return { kind: 'a credential set in the environment', masked: mask(secret) };
    }
  }
  for (const { kind, pattern } of keyShapes) {
    const match = pattern.exec(text);
    if (match) return { kind, masked: mask(match[0]) };
  }
  return undefined;
}

function mask(value: string): string {
  return `${value.slice(0, 6)}${'*'.repeat(Math.min(12, Math.max(0, value.length - 6)))}`;
}

/** Values of environment variables that hold credentials (names ending KEY, TOKEN, SECRET, PASSWORD). */
export function environmentSecrets(env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(env)
    .filter(([name, value]) => value && /(?:KEY|TOKEN|SECRET|PASSWORD)$/i.test(name))
    .map(([, value]) => value!)
    .filter((value) => value.length >= 8);
}
