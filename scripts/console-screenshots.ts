// Regenerates docs/console/*.png: each page of the web console, in Chromium, against a real
// `agentd serve` on a home filled offline (scripted agents, the example eval suite twice,
// the example team, a registered server, memories, a call waiting for approval).
// Run with: npm run console:screenshots (after npm run console:build).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { SecretBox } from '../src/config/secret-box.ts';
import { ApiKeys } from '../src/server/api-keys.ts';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { Registry } from '../src/tools/registry/registry.ts';
import { defaultContainment } from '../src/tools/registry/server-entry.ts';
import { consoleHome, runExampleSuite, seedMemories } from '../test/server/console-home.ts';
import { browserMissing, launchChromium } from '../test/support/browser.ts';
import { agentd } from '../test/support/cli.ts';
import { startServe } from '../test/support/serve-process.ts';

const out = fileURLToPath(new URL('../docs/console/', import.meta.url));
const missing = browserMissing();
if (missing) {
  console.error(`console-screenshots: ${missing}`);
  process.exit(1);
}

const home = mkdtempSync(join(tmpdir(), 'agentd-shots-'));
const serveAndShoot = async () => {
  consoleHome(home);
  await runExampleSuite(home, 1);
  await runExampleSuite(home, 3);
  const team = await agentd(
    ['team', 'run', 'examples/team/team.yaml', 'Write a short guide to examples/unit-converter'],
    { home },
  );
  if (team.code !== 0) throw new Error(`agentd team run failed: ${team.stderr}`);
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  const key = (
    await new ApiKeys(store).create('alice', [
      'runs',
      'approvals',
      'teams',
      'policies',
      'registry',
      'registry_admin',
      'audit',
      'memory',
      'evals',
    ])
  ).key;
  await seedMemories(store, (await store.listRuns({ limit: 1 }))[0]!.id);
  const registry = new Registry(store, SecretBox.forHome(home));
  await registry.add(
    {
      name: 'tickets',
      title: 'Tickets',
      description: 'The team’s issue tracker',
      source: { kind: 'url' },
      transport: { type: 'http', url: 'https://tickets.example/mcp' },
      env: {},
      headers: {},
      secrets: [],
      secretHeaders: ['TICKETS_TOKEN'],
      roots: [],
      containment: defaultContainment,
      enabled: true,
    },
    { TICKETS_TOKEN: 'not-a-real-token' },
  );
  await registry.setTools('tickets', [
    {
      name: 'create_issue',
      description: 'Open an issue with a title and a body',
      inputSchema: { type: 'object' },
    },
    {
      name: 'search_issues',
      description: 'Find issues by words in their title',
      inputSchema: { type: 'object' },
    },
  ]);
  await store.close();

  const serve = await startServe(home);
  const api = (path: string, body?: unknown) =>
    fetch(`${serve.url}${path}`, {
      method: body ? 'POST' : 'GET',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).then((r) => r.json() as Promise<Record<string, unknown>>);
  const waiting = (await api('/runs', {
    agent: 'deployer',
    task: 'Deploy the billing service to prod',
  })) as { id: string };
  await api('/runs', { agent: 'greeter', task: 'Say hello to the new teammate' });
  await api('/policies/sets', {
    name: 'release',
    policies: {
      'release.cedar':
        '@id("no-friday-deploys")\nforbid (principal, action == Action::"deploy", resource);\n',
    },
  });
  const browser = await launchChromium();
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
  });
  const page = await context.newPage();
  mkdirSync(out, { recursive: true });
  const shot = async (name: string) => {
    await page.waitForLoadState('networkidle').catch(() => {});
    await page.screenshot({ path: join(out, `${name}.png`) });
    console.log(`wrote docs/console/${name}.png`);
  };
  const open = async (hash: string, ready: (p: Page) => Promise<unknown>) => {
    await page.goto(`${serve.url}/#/${hash}`);
    await ready(page);
  };

  await page.goto(serve.url);
  await page.getByLabel('API key').waitFor();
  await shot('sign-in');
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await open('runs', (p) =>
    p.getByRole('table', { name: 'Runs' }).locator('tbody tr').first().waitFor(),
  );
  await shot('runs');
  await open(`runs/${waiting.id}`, (p) => p.getByRole('button', { name: 'Approve' }).waitFor());
  await shot('run-timeline');
  await open('approvals', (p) => p.locator('.card').first().waitFor());
  await shot('approvals');
  const teams = (await api('/teams')) as { teams: { id: string }[] };
  await open(`teams/${teams.teams[0]!.id}`, (p) =>
    p.getByRole('region', { name: 'Task board' }).waitFor(),
  );
  await shot('team');
  await open('policies', async (p) => {
    const agent = p.getByLabel('Agent (its tools make the schema)');
    await agent.locator('option[value="deployer"]').waitFor({ state: 'attached' });
    await agent.selectOption('deployer');
    await p.getByRole('button', { name: 'Open as candidate' }).first().click();
    await p.getByRole('button', { name: 'What if?' }).click();
    await p.getByRole('region', { name: 'What-if' }).waitFor();
  });
  await shot('policies-what-if');
  await open('registry', (p) => p.getByRole('list', { name: 'Servers' }).waitFor());
  await shot('registry');
  await open('audit', async (p) => {
    await p.getByRole('table', { name: 'Audit entries' }).waitFor();
    await p.getByRole('button', { name: 'Verify the chain' }).click();
    await p.locator('.verdict').waitFor();
  });
  await shot('audit');
  await open('memory/mem_01alicekorean', (p) => p.locator('.facts').waitFor());
  await shot('memory');
  const results = (await api('/evals/results')) as { results: { id: string }[] };
  const [b, a] = results.results;
  await open(`evals/compare?a=${a!.id}&b=${b!.id}`, (p) =>
    p.getByRole('table', { name: 'Metrics' }).waitFor(),
  );
  await shot('eval-compare');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.evaluate("localStorage.setItem('agentd.theme', 'dark')");
  await open(`runs/${waiting.id}`, (p) => p.getByRole('button', { name: 'Approve' }).waitFor());
  await page.reload();
  await page.getByRole('button', { name: 'Approve' }).waitFor();
  await shot('run-timeline-dark');
  await browser.close();
  await serve.stop();
};

try {
  await serveAndShoot();
} finally {
  rmSync(home, { recursive: true, force: true });
}
