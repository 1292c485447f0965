import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AgentdError } from '../core/errors.ts';

/**
 * Encrypts secrets at rest (AES-256-GCM). The key is `AGENTD_SECRET_KEY` (64 hex characters)
 * or, by default, a random key made once in `$AGENTD_HOME/secret.key` (mode 0600). The store
 * only ever holds ciphertext; the key never goes in it.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('secret key must be 32 bytes');
    this.#key = key;
  }

  static forHome(
    home: string,
    env: Readonly<Record<string, string | undefined>> = process.env,
  ): SecretBox {
    const fromEnv = env.AGENTD_SECRET_KEY;
    if (fromEnv) {
      if (!/^[0-9a-fA-F]{64}$/.test(fromEnv)) {
        throw new AgentdError(
          'config_invalid',
          'AGENTD_SECRET_KEY must be 64 hex characters (32 bytes); make one with: openssl rand -hex 32',
        );
      }
      return new SecretBox(Buffer.from(fromEnv, 'hex'));
    }
    const file = join(home, 'secret.key');
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    }
    chmodSync(file, 0o600);
    const text = readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-fA-F]{64}$/.test(text)) {
      throw new AgentdError(
        'config_invalid',
        `${file} is not a secret key (64 hex characters); restore it, or remove it and set the secrets again`,
      );
    }
    return new SecretBox(Buffer.from(text, 'hex'));
  }

  seal(values: Readonly<Record<string, string>>): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(values), 'utf8'), cipher.final()]);
    return `v1:${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${body.toString('base64')}`;
  }

  open(sealed: string): Record<string, string> {
    const [version, iv, tag, body] = sealed.split(':');
    if (version !== 'v1' || !iv || !tag || body === undefined) {
      throw new AgentdError(
        'config_invalid',
        'stored secrets are in an unknown format; set them again',
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      const text = Buffer.concat([
        decipher.update(Buffer.from(body, 'base64')),
        decipher.final(),
      ]).toString('utf8');
      return JSON.parse(text) as Record<string, string>;
    } catch {
      throw new AgentdError(
        'config_invalid',
        'stored secrets cannot be decrypted with this secret key (was secret.key or AGENTD_SECRET_KEY changed?); set them again',
      );
    }
  }
}
