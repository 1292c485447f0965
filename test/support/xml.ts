/** A small, strict XML parser for checking what agentd writes (no DTDs, no namespaces). */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string, at: number): string {
  return text.replace(/&([^;]*);/g, (_, name: string) => {
    if (name in entities) return entities[name]!;
    const code = /^#x([0-9a-fA-F]+)$/.exec(name)?.[1] ?? /^#(\d+)$/.exec(name)?.[1];
    if (code === undefined) throw new Error(`unknown entity &${name}; near ${at}`);
    return String.fromCodePoint(name.startsWith('#x') ? Number.parseInt(code, 16) : Number(code));
  });
}

function checkChars(text: string, at: number): void {
  // XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const ok =
      c === 0x9 ||
      c === 0xa ||
      c === 0xd ||
      (c >= 0x20 && c <= 0xd7ff) ||
      (c >= 0xe000 && c <= 0xfffd) ||
      c >= 0x10000;
    if (!ok)
      throw new Error(
        `character U+${c.toString(16).padStart(4, '0')} is not allowed in XML (near ${at})`,
      );
  }
}

/** Parses a document; throws on anything that is not well-formed. */
export function parseXml(source: string): XmlElement {
  checkChars(source, 0);
  let i = 0;
  const skipSpace = () => {
    while (i < source.length && /\s/.test(source[i]!)) i++;
  };
  const skipMisc = () => {
    for (;;) {
      skipSpace();
      if (source.startsWith('<?', i)) {
        const end = source.indexOf('?>', i);
        if (end === -1) throw new Error('unterminated processing instruction');
        i = end + 2;
      } else if (source.startsWith('<!--', i)) {
        const end = source.indexOf('-->', i);
        if (end === -1) throw new Error('unterminated comment');
        i = end + 3;
      } else return;
    }
  };
  const name = (): string => {
    const m = /^[A-Za-z_:][\w.:-]*/.exec(source.slice(i));
    if (!m) throw new Error(`expected a name at ${i}`);
    i += m[0].length;
    return m[0];
  };
  const element = (): XmlElement => {
    if (source[i] !== '<') throw new Error(`expected < at ${i}`);
    i++;
    const el: XmlElement = { name: name(), attributes: {}, children: [], text: '' };
    for (;;) {
      skipSpace();
      if (source.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (source[i] === '>') {
        i++;
        break;
      }
      const key = name();
      skipSpace();
      if (source[i] !== '=') throw new Error(`expected = after ${key} at ${i}`);
      i++;
      skipSpace();
      const quote = source[i];
      if (quote !== '"' && quote !== "'")
        throw new Error(`expected a quoted value for ${key} at ${i}`);
      const end = source.indexOf(quote, i + 1);
      if (end === -1) throw new Error(`unterminated value of ${key}`);
      const raw = source.slice(i + 1, end);
      if (raw.includes('<')) throw new Error(`< in the value of ${key} at ${i}`);
      if (key in el.attributes) throw new Error(`duplicate attribute ${key} on <${el.name}>`);
      el.attributes[key] = decode(raw, i);
      i = end + 1;
    }
    for (;;) {
      const next = source.indexOf('<', i);
      if (next === -1) throw new Error(`<${el.name}> is never closed`);
      const text = source.slice(i, next);
      if (/&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)/.test(text))
        throw new Error(`bare & in <${el.name}> near ${i}`);
      if (text.includes('>') && text.includes(']]>')) throw new Error(`]]> in text near ${i}`);
      el.text += decode(text, i);
      i = next;
      if (source.startsWith('</', i)) {
        i += 2;
        const closing = name();
        if (closing !== el.name) throw new Error(`</${closing}> closes <${el.name}> at ${i}`);
        skipSpace();
        if (source[i] !== '>') throw new Error(`expected > at ${i}`);
        i++;
        return el;
      }
      if (source.startsWith('<!--', i)) {
        const end = source.indexOf('-->', i);
        if (end === -1) throw new Error('unterminated comment');
        i = end + 3;
        continue;
      }
      el.children.push(element());
    }
  };
  skipMisc();
  const root = element();
  skipMisc();
  if (i !== source.length) throw new Error(`content after the root element at ${i}`);
  return root;
}

type Rule = {
  required: string[];
  allowed: string[];
  /** Child elements in the order they may come, with how many of each. */
  children: [string, '?' | '*'][];
};

/**
 * Jenkins' junit-10.xsd (what GitHub, GitLab and most CI read): the elements, their
 * order, their required and allowed attributes.
 */
const junitRules: Record<string, Rule> = {
  testsuites: {
    required: [],
    allowed: ['name', 'time', 'tests', 'failures', 'disabled', 'errors'],
    children: [['testsuite', '*']],
  },
  testsuite: {
    required: ['name', 'tests'],
    allowed: [
      'name',
      'tests',
      'failures',
      'errors',
      'time',
      'disabled',
      'skipped',
      'timestamp',
      'hostname',
      'id',
      'package',
      'file',
      'log',
      'url',
      'version',
    ],
    children: [
      ['properties', '?'],
      ['testcase', '*'],
      ['system-out', '?'],
      ['system-err', '?'],
    ],
  },
  properties: { required: [], allowed: [], children: [['property', '*']] },
  property: { required: ['name', 'value'], allowed: ['name', 'value'], children: [] },
  testcase: {
    required: ['name'],
    allowed: ['name', 'assertions', 'time', 'classname', 'status'],
    children: [
      ['skipped', '?'],
      ['error', '*'],
      ['failure', '*'],
      ['system-out', '*'],
      ['system-err', '*'],
    ],
  },
  skipped: { required: [], allowed: ['message'], children: [] },
  error: { required: [], allowed: ['message', 'type'], children: [] },
  failure: { required: [], allowed: ['message', 'type'], children: [] },
  'system-out': { required: [], allowed: [], children: [] },
  'system-err': { required: [], allowed: [], children: [] },
};

const integer = /^\d+$/;
const decimal = /^\d+(\.\d+)?$/;
const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;

/**
 * Checks a JUnit report against junit-10.xsd's structure and its counts; returns the
 * problems found (none for a valid file).
 */
export function junitProblems(root: XmlElement): string[] {
  const problems: string[] = [];
  if (root.name !== 'testsuites') problems.push(`the root is <${root.name}>, not <testsuites>`);
  const visit = (el: XmlElement, path: string) => {
    const rule = junitRules[el.name];
    if (!rule) {
      problems.push(`${path}: <${el.name}> is not a JUnit element`);
      return;
    }
    for (const key of rule.required) {
      if (!(key in el.attributes)) problems.push(`${path}: missing required attribute ${key}`);
    }
    for (const key of Object.keys(el.attributes)) {
      if (!rule.allowed.includes(key)) problems.push(`${path}: attribute ${key} is not allowed`);
    }
    for (const key of ['tests', 'failures', 'errors', 'skipped', 'disabled']) {
      const v = el.attributes[key];
      if (v !== undefined && !integer.test(v))
        problems.push(`${path}: ${key}="${v}" is not a count`);
    }
    if (el.attributes.time !== undefined && !decimal.test(el.attributes.time)) {
      problems.push(`${path}: time="${el.attributes.time}" is not a number of seconds`);
    }
    if (el.attributes.timestamp !== undefined && !dateTime.test(el.attributes.timestamp)) {
      problems.push(
        `${path}: timestamp="${el.attributes.timestamp}" is not an xs:dateTime without zone`,
      );
    }
    if (rule.children.length === 0 && el.children.length > 0) {
      problems.push(`${path}: <${el.name}> may hold text only`);
    }
    let slot = 0;
    const seen = new Map<string, number>();
    for (const child of el.children) {
      while (slot < rule.children.length && rule.children[slot]![0] !== child.name) slot++;
      if (slot === rule.children.length) {
        problems.push(`${path}: <${child.name}> is not allowed here (or out of order)`);
        break;
      }
      const count = (seen.get(child.name) ?? 0) + 1;
      seen.set(child.name, count);
      if (rule.children[slot]![1] === '?' && count > 1)
        problems.push(`${path}: more than one <${child.name}>`);
    }
    if (el.children.length && el.text.trim()) problems.push(`${path}: text mixed with elements`);
    el.children.forEach((child, i) => {
      visit(child, `${path}/${child.name}[${i}]`);
    });
    if (el.name === 'testsuite') {
      const cases = el.children.filter((c) => c.name === 'testcase');
      const having = (name: string) =>
        cases.filter((c) => c.children.some((x) => x.name === name)).length;
      const expect = (key: string, n: number) => {
        if (el.attributes[key] !== undefined && Number(el.attributes[key]) !== n) {
          problems.push(`${path}: ${key}="${el.attributes[key]}" but ${n} testcases say so`);
        }
      };
      expect('tests', cases.length);
      expect('failures', having('failure'));
      expect('errors', having('error'));
      expect('skipped', having('skipped'));
    }
  };
  visit(root, root.name);
  return problems;
}
