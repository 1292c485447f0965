import { rules as recommendedRules } from '@secretlint/secretlint-rule-preset-recommend';
import type {
  SecretLintRuleContext,
  SecretLintRuleReportDescriptor,
  SecretLintSourceCode,
} from '@secretlint/types';

/** Replaces secrets in serialized text. Applied at the store boundary and to log output. */
export type Redactor = (text: string) => string;

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/**
 * Formats that are secrets wherever they appear, beyond the rule set: keys of the providers
 * agentd talks to in the forms their own docs show (shorter than the rule set's exact forms),
 * and bearer tokens in headers.
 */
const ownPatterns: RegExp[] = [
  /sk-ant-[A-Za-z0-9_-]{16,}/g,
  /\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}/g,
  /\bBearer\s+[A-Za-z0-9._~+/-]{16,}=*/g,
  // a private key block of any size (the rule set skips those shorter than an RSA key's)
  /-----BEGIN[A-Z ]{0,20}PRIVATE KEY(?: BLOCK)?-----[\s\S]{0,20000}?-----END[A-Z ]{0,20}PRIVATE KEY(?: BLOCK)?-----/g,
];

/**
 * Secretlint's recommended rule set (`@secretlint/secretlint-rule-preset-recommend`): the
 * credential formats a secret scanner knows (AWS, GCP, GitHub, GitLab, Slack, npm, OpenAI,
 * Anthropic, private keys, connection strings with passwords, basic auth in URLs, ...), kept
 * up to date by its maintainers. Each rule is run as a scanner of one text; the filter rule
 * (`secretlint-disable` comments) is left out, or text a tool returned could switch redaction
 * off for itself. AWS access key ids are secrets here too (the rule set only flags them when
 * asked).
 */
type Scanner = (source: SecretLintSourceCode) => void;
type Found = { start: number; end: number; values: string[] };

/** The props of a rule's message that hold the secret it found (the others name a file or type). */
const secretProps = new Set(['CREDENTIAL', 'ID', 'KEY', 'TOKEN', 'URI', 'URL']);

let scanners: { found: Found[]; run: Scanner[] } | undefined;

function ruleScanners(): { found: Found[]; run: Scanner[] } {
  if (scanners) return scanners;
  const found: Found[] = [];
  let values: string[] = [];
  const translate = (_id: unknown, props?: Record<string, unknown>) => {
    values = Object.entries(props ?? {})
      .filter(([key, value]) => secretProps.has(key) && typeof value === 'string')
      .map(([, value]) => value as string);
    return { message: '', data: props };
  };
  const context = {
    sharedOptions: {},
    // A rule words its message through the translator with the secret among its props: the
    // props are what is kept (the rule's range is where the match started, not always the secret).
    createTranslator: () => translate,
    report: (descriptor: SecretLintRuleReportDescriptor) => {
      found.push({ start: descriptor.range[0], end: descriptor.range[1], values });
      values = [];
    },
    ignore: () => {},
  } as unknown as SecretLintRuleContext;
  const run: Scanner[] = [];
  for (const rule of recommendedRules) {
    if (rule.meta.id.endsWith('/secretlint-rule-filter-comments')) continue;
    if (rule.meta.type !== 'scanner' || !rule.meta.supportedContentTypes.includes('text')) continue;
    const options = rule.meta.id.endsWith('/secretlint-rule-aws') ? { enableIDScanRule: true } : {};
    const handler = (rule.create as (c: SecretLintRuleContext, o: object) => { file?: Scanner })(
      context,
      options,
    );
    if (handler.file) run.push(handler.file.bind(handler));
  }
  scanners = { found, run };
  return scanners;
}

function sourceOf(content: string): SecretLintSourceCode {
  const unsupported = (): never => {
    throw new Error('not available to a redaction scan');
  };
  return {
    hasBOM: false,
    content,
    filePath: undefined,
    physicalFilePath: undefined,
    contentType: 'text',
    ext: '',
    getFilePath: () => undefined,
    getPhysicalFilePath: () => undefined,
    locationToRange: unsupported,
    rangeToLocation: unsupported,
    positionToIndex: unsupported,
    indexToPosition: unsupported,
  };
}

/**
 * Short strings the rule set found nothing in. The rules are pure, so a string clean once is
 * clean again, and an event log repeats most of its strings (keys, the run id, event types,
 * tool names): each is scanned once instead of every time. Only clean strings are kept, never
 * one a rule matched; the set is emptied when full.
 */
const clean = new Set<string>();
const cleanMaxLength = 512;
const cleanMaxSize = 50_000;

/** `text` with what the rule set finds in it replaced. */
function redactByRules(text: string): string {
  const short = text.length <= cleanMaxLength;
  if (short && clean.has(text)) return text;
  const { found, run } = ruleScanners();
  found.length = 0;
  const source = sourceOf(text);
  for (const scan of run) scan(source);
  if (found.length === 0) {
    if (short) {
      if (clean.size >= cleanMaxSize) clean.clear();
      clean.add(text);
    }
    return text;
  }
  // Where the rules matched, and everywhere the secrets they named occur.
  const spans: [number, number][] = [];
  for (const hit of found.splice(0)) {
    spans.push([hit.start, hit.end]);
    for (const value of hit.values) {
      if (value.length < 8) continue;
      for (let i = text.indexOf(value); i >= 0; i = text.indexOf(value, i + value.length)) {
        spans.push([i, i + value.length]);
      }
    }
  }
  spans.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  let out = '';
  let at = 0;
  for (const [start, end] of spans) {
    if (end <= at) continue;
    if (start >= at) out += text.slice(at, start) + REDACTED;
    at = end;
  }
  return out + text.slice(at);
}

/**
 * The rule set over `text`. JSON is scanned by its strings, as they read once decoded (a
 * private key in an event has its newlines escaped; a match must not cut an escape in two),
 * and so is each line of JSON Lines; other text as it is.
 */
function redactWellKnown(text: string): string {
  const json = redactJson(text);
  if (json !== undefined) return json;
  if (!text.includes('\n')) return redactByRules(text);
  return text
    .split('\n')
    .map((line) => redactJson(line) ?? redactByRules(line))
    .join('\n');
}

/** `text` redacted string by string when it is JSON; undefined when it is not. */
function redactJson(text: string): string | undefined {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[' && first !== '"') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  let changed = false;
  const walk = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const out = redactByRules(node);
      if (out !== node) changed = true;
      return out;
    }
    if (Array.isArray(node)) return node.map(walk);
    if (node && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(node)) out[walk(key) as string] = walk(inner);
      return out;
    }
    return node;
  };
  const redacted = walk(value);
  return changed ? JSON.stringify(redacted) : text;
}

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
    for (const pattern of ownPatterns) out = out.replace(pattern, REDACTED);
    return redactWellKnown(out);
  };
}
