import { describe, expect, it } from 'vitest';
import { createRedactor } from '../../src/core/redact.ts';
import { planted, plantedTexts, secretParts } from './planted.ts';

const redact = createRedactor();
const parts = secretParts();

describe('redaction by the well-known rule set', () => {
  for (const [name, text] of Object.entries(plantedTexts())) {
    it(`redacts ${name} in plain text and inside JSON strings`, () => {
      const secret = parts[name]!;
      expect(text).toContain(secret);
      const plain = redact(text);
      expect(plain).not.toContain(secret);
      expect(plain).toContain('[redacted]');
      // as the store sees an event: serialized, with newlines and quotes escaped
      const json = JSON.stringify({ type: 'tool.result', output: `before\n"${text}"\nafter` });
      const cleaned = redact(json);
      expect(cleaned).not.toContain(secret);
      expect(cleaned).not.toContain(JSON.stringify(secret).slice(1, -1));
      // still JSON, the text around the secret kept (a rule may take a quote with its match)
      expect(JSON.parse(cleaned).output).toMatch(/^before\n[\s\S]*\[redacted\][\s\S]*\nafter$/);
    });
  }

  it('redacts a secret every time it comes, and in a string whose clean parts were seen before', () => {
    for (const [name, text] of Object.entries(plantedTexts())) {
      const secret = parts[name]!;
      const event = (output: string) => JSON.stringify({ type: 'tool.result', output });
      // the clean pieces first, each scanned once and then remembered as clean
      for (const piece of ['before', 'after', 'type', 'tool.result', 'output'])
        redact(event(piece));
      for (let i = 0; i < 3; i++) {
        expect(redact(text)).not.toContain(secret);
        expect(redact(event(text))).not.toContain(secret);
        expect(redact(event(`before ${text} after`))).not.toContain(secret);
      }
    }
  });

  it('catches an AWS secret key when its name and value are JSON-escaped', () => {
    const text = JSON.stringify({ env: `AWS_SECRET_ACCESS_KEY="${planted.awsSecretAccessKey}"` });
    expect(redact(text)).not.toContain(planted.awsSecretAccessKey);
  });

  it('cannot be switched off by a secretlint-disable comment in the text', () => {
    for (const comment of ['// secretlint-disable', '# secretlint-disable-next-line']) {
      expect(redact(`${comment}\n${planted.awsAccessKeyId}`)).not.toContain(planted.awsAccessKeyId);
    }
  });

  it('leaves ordinary text and agentd identifiers as they are', () => {
    const ordinary = [
      'run_01jf3k9x2m7q8w4e5r6t7y8u9i',
      'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
      '3f2c1a9e-7b4d-4e8f-9a1b-2c3d4e5f6a7b',
      'AKIA is the prefix of an access key id; AKIAIOSFODNN7EXAMPLE is the documented example',
      'postgres://127.0.0.1:5432/test',
      'The quick brown fox jumps over the lazy dog. '.repeat(20),
      '{"path":"src/core/redact.ts","lines":[1,2,3],"ok":true,"note":"a \\"quoted\\" word\\n"}',
    ];
    for (const text of ordinary) expect(redact(text)).toBe(text);
  });

  it('still redacts the values it was given and the provider key forms', () => {
    const own = createRedactor(['my-own-secret-value']);
    expect(own('x my-own-secret-value y sk-ant-abcdefghijklmnopqrstu')).toBe(
      'x [redacted] y [redacted]',
    );
  });
});
