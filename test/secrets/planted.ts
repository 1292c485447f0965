import { generateKeyPairSync } from 'node:crypto';

/**
 * Secrets of the well-known formats, planted in what the secret tests feed agentd. None is a
 * live credential; each has the shape a secret scanner recognizes (AWS's own example key is
 * one the rule set lets pass, so these are not it).
 */
export const planted = {
  awsAccessKeyId: 'AKIAZ7Q2XK4M9PLW3RTB',
  awsSessionKeyId: 'ASIAQ4XK2M9PLW3RTBZ7',
  awsSecretAccessKey: 'Zx9k2L8mQ4wR7tY1uI3oP6aS5dF0gH2jK4lZ8xCv',
  githubToken: 'ghp_aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5',
  githubFineGrained: `github_pat_11ABCDEFG0${'a1B2c3D4e5'.repeat(7)}Zy`,
  gitlabToken: 'glpat-aBcDeFgHiJkLmNoPqRsT',
  slackBotToken: 'xoxb-1234567890123-1234567890123-aBcDeFgHiJkLmNoPqRsTuVwX',
  npmToken: 'npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789',
  databasePassword: 'S3cretPassw0rdForDb',
  rsaPrivateKey: generateKeyPairSync('rsa', { modulusLength: 1024 })
    .privateKey.export({ type: 'pkcs1', format: 'pem' })
    .toString(),
  ed25519PrivateKey: generateKeyPairSync('ed25519')
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
};

/** Each planted secret as it appears in text a user or a tool would write. */
export function plantedTexts(): Record<string, string> {
  return {
    awsAccessKeyId: `export AWS_ACCESS_KEY_ID=${planted.awsAccessKeyId}`,
    awsSessionKeyId: `the key id is ${planted.awsSessionKeyId}.`,
    awsSecretAccessKey: `aws_secret_access_key = ${planted.awsSecretAccessKey}`,
    githubToken: `git clone https://x:${planted.githubToken}@example.com/repo`,
    githubFineGrained: `GITHUB_TOKEN=${planted.githubFineGrained}`,
    gitlabToken: `token: ${planted.gitlabToken}`,
    slackBotToken: `SLACK=${planted.slackBotToken}`,
    npmToken: `//registry.npmjs.org/:_authToken=${planted.npmToken}`,
    databasePassword: `postgres://admin:${planted.databasePassword}@db.internal:5432/prod`,
    rsaPrivateKey: planted.rsaPrivateKey,
    ed25519PrivateKey: planted.ed25519PrivateKey,
  };
}

/** The parts of each planted secret that must not survive (a PEM block's body). */
export function secretParts(): Record<string, string> {
  const body = (pem: string) => pem.split('\n')[1]!;
  return {
    ...Object.fromEntries(Object.entries(planted).filter(([k]) => !k.endsWith('PrivateKey'))),
    rsaPrivateKey: body(planted.rsaPrivateKey),
    ed25519PrivateKey: body(planted.ed25519PrivateKey),
  };
}
