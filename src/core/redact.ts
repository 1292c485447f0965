/** Replaces secrets in serialized text. Applied at the store boundary and to log output. */
export type Redactor = (text: string) => string;

const REDACTED = '[redacted]';

/** Key formats that are secrets wherever they appear. */
const secretPatterns: RegExp[] = [
  /sk-ant-[A-Za-z0-9_-]{16,}/g,
  /\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}/g,
  /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/g,
];

export function createRedactor(secrets: Iterable<string> = []): Redactor {
  // Short values would redact ordinary words; credentials are never that short.
  const values = [...new Set(secrets)].filter((s) => s.length >= 8);
  const forms = values.flatMap((s) => {
    const escaped = JSON.stringify(s).slice(1, -1);
    return escaped === s ? [s] : [s, escaped];
  });
  forms.sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    for (const pattern of secretPatterns) out = out.replace(pattern, REDACTED);
    return out;
  };
}
