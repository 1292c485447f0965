import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { consoleDistDir } from '../../src/server/console-assets.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { consoleHome, runExampleSuite, seedMemories } from '../server/console-home.ts';
import { browserMissing, launchChromium } from '../support/browser.ts';
import { type ServeProcess, startServe } from '../support/serve-process.ts';

const missing =
  browserMissing() ??
  (existsSync(join(consoleDistDir, 'index.html'))
    ? undefined
    : 'the console is not built (npm run console:build)');
if (missing) console.warn(`console browser tests skipped: ${missing}`);

let home: string;
let serve: ServeProcess;
let browser: Browser;
const keys: Record<'operator' | 'viewer', string> = { operator: '', viewer: '' };

beforeAll(async () => {
  if (missing) return;
  home = mkdtempSync(join(tmpdir(), 'agentd-console-'));
  consoleHome(home);
  await runExampleSuite(home, 1);
  await runExampleSuite(home, 3);
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  const apiKeys = new ApiKeys(store);
  keys.operator = (
    await apiKeys.create('alice', [
      'runs',
      'approvals',
      'teams',
      'policies',
      'registry',
      'audit',
      'memory',
      'evals',
    ])
  ).key;
  keys.viewer = (await apiKeys.create('viewer', ['runs'])).key;
  await seedMemories(store, 'run_seeded');
  await store.close();
  serve = await startServe(home);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

async function signIn(key: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(serve.url);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Sections' }).waitFor();
  return page;
}

/** Starts a run over the API with the operator's key; its id. */
async function startRun(agent: string, task: string): Promise<string> {
  const response = await fetch(`${serve.url}/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.operator}`, 'content-type': 'application/json' },
    body: JSON.stringify({ agent, task }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

describe.skipIf(missing)('the console in Chromium against agentd serve', () => {
  it('refuses the API without a session, and signs in with a key', async () => {
    expect((await fetch(`${serve.url}/runs`)).status).toBe(401);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(serve.url);
    await page.getByLabel('API key').fill('agentd_not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/unknown or revoked/);
    const cookies = await context.cookies();
    expect(cookies).toEqual([]);
    await context.close();

    const signed = await signIn(keys.operator);
    const [session] = await signed.context().cookies();
    expect(session).toMatchObject({ name: 'agentd_session', httpOnly: true, sameSite: 'Strict' });
    // page scripts cannot read it
    expect(await signed.evaluate('document.cookie')).toBe('');
    await signed.context().close();
  });

  it('starts a run and watches it live until it completes', async () => {
    const page = await signIn(keys.operator);
    await page.getByRole('button', { name: 'Start a run' }).click();
    await page.getByLabel('Agent', { exact: true }).selectOption('greeter');
    await page.getByLabel('Task').fill('say hello to the console');
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForURL(/#\/runs\/run_/);
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline.getByText('Finished').waitFor();
    await expect
      .poll(() => timeline.textContent())
      .toMatch(/Hello! You asked: say hello to the console/);
    await expect.poll(() => page.locator('.run-head').textContent()).toMatch(/completed/);
    await page.context().close();
  });

  it('approves a pending call from the inbox, and the run finishes', async () => {
    const runId = await startRun('deployer', 'deploy to prod');
    const page = await signIn(keys.operator);
    await page.goto(`${serve.url}/#/approvals`);
    const card = page.locator('.card', { hasText: runId.slice(0, 14) });
    await card.waitFor();
    expect(await card.textContent()).toMatch(/deploy.*pending.*deploy-needs-a-person/s);
    expect(await card.locator('.json').textContent()).toContain('"target": "prod"');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.waitFor({ state: 'detached' });
    await page.goto(`${serve.url}/#/runs/${runId}`);
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline.getByText('Finished').waitFor();
    expect(await timeline.textContent()).toMatch(/approval\s*approved\s*by alice/);
    expect(await timeline.textContent()).toMatch(/done: deployed prod/);
    await page.context().close();
  });

  it('denies a call from the run’s timeline with a reason the agent is told', async () => {
    const runId = await startRun('deployer', 'deploy on a Friday');
    const page = await signIn(keys.operator);
    await page.goto(`${serve.url}/#/runs/${runId}`);
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline.getByRole('button', { name: 'Deny…' }).click();
    await timeline.getByLabel('Why deny').fill('not on a Friday');
    await timeline.getByRole('button', { name: 'Deny', exact: true }).click();
    await timeline.getByText('Finished').waitFor();
    const text = await timeline.textContent();
    expect(text).toMatch(/approval\s*denied\s*by alice: not on a Friday/);
    expect(text).toMatch(/Tool call deploy\s*denied/);
    await page.context().close();
  });

  it('a key without the approvals scope sees no approve button', async () => {
    const runId = await startRun('deployer', 'deploy for the viewer');
    const page = await signIn(keys.viewer);
    await page.goto(`${serve.url}/#/runs/${runId}`);
    const timeline = page.getByRole('list', { name: 'Timeline' });
    await timeline.getByText('approval').first().waitFor();
    expect(await timeline.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Approvals' }).count()).toBe(0);
    const refused = await page.evaluate(async (id) => {
      const session = (await (await fetch('/session')).json()) as { csrfToken: string };
      const response = await fetch(`/approvals/${id}/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-agentd-csrf': session.csrfToken },
        body: '{}',
      });
      return { status: response.status, body: await response.json() };
    }, runId);
    expect(refused).toMatchObject({ status: 403, body: { code: 'insufficient_scope' } });
    await page.context().close();
  });

  it('refuses a change without the CSRF token, even with the session cookie', async () => {
    const page = await signIn(keys.operator);
    const result = await page.evaluate(async () => {
      const response = await fetch('/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ agent: 'greeter', task: 'forged' }),
      });
      return { status: response.status, body: await response.json() };
    });
    expect(result).toMatchObject({ status: 403, body: { code: 'csrf_failed' } });
    await page.context().close();
  });

  it('what-if: a candidate policy shows every recorded call whose decision would change', async () => {
    const page = await signIn(keys.operator);
    await page.goto(`${serve.url}/#/policies`);
    // the eval suite's runs are of agents without a deploy tool: replay the deployer's runs
    const agent = page.getByLabel('Agent (its tools make the schema)');
    await agent.locator('option[value="deployer"]').waitFor({ state: 'attached' });
    await agent.selectOption('deployer');
    await page
      .getByLabel('Candidate policies (Cedar)')
      .fill('@id("no-deploys")\nforbid (principal, action == Action::"deploy", resource);\n');
    await page.getByRole('button', { name: 'What if?' }).click();
    const section = page.getByRole('region', { name: 'What-if' });
    await section.waitFor();
    const rows = section.getByRole('table', { name: 'Changed decisions' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(3);
    expect(await rows.first().textContent()).toMatch(/deployer.*deploy.*needs approval.*deny/s);
    expect(await section.textContent()).toMatch(/would change \(\d+ needs_approval → deny\)/);
    await page.context().close();
  });

  it('forgets a memory, with its provenance shown first', async () => {
    const page = await signIn(keys.operator);
    await page.goto(`${serve.url}/#/memory?actor=alice`);
    await page.getByRole('link', { name: 'mem_01alicekorea' }).click();
    const facts = page.locator('.facts');
    await facts.waitFor();
    expect(await facts.textContent()).toMatch(/Said byuser.*Fromrun run_seeded, events #0/s);
    await page.getByRole('button', { name: 'Forget…' }).click();
    await page.getByRole('button', { name: 'Forget', exact: true }).click();
    await page.waitForURL(/#\/memory$/);
    const table = page.getByRole('table', { name: 'Memories' });
    await table.waitFor();
    await expect.poll(() => table.textContent()).not.toMatch(/mem_01alicekorea/);
    expect(await table.textContent()).toMatch(/mem_01alicepage/);
    await page.context().close();
  });

  it('opens an eval comparison with its intervals and verdicts', async () => {
    const page = await signIn(keys.operator);
    await page.goto(`${serve.url}/#/evals`);
    const boxes = page.getByRole('table', { name: 'Results' }).getByRole('checkbox');
    await expect.poll(() => boxes.count()).toBe(2);
    await boxes.nth(0).check();
    await boxes.nth(1).check();
    await page.getByRole('button', { name: 'Compare the two picked' }).click();
    const metrics = page.getByRole('table', { name: 'Metrics' });
    await metrics.waitFor();
    const text = await metrics.textContent();
    expect(text).toMatch(/suite score/);
    expect(text).toMatch(/better|worse|same|cannot tell/);
    expect(await page.locator('main').textContent()).toMatch(/paired bootstrap/);
    await page.context().close();
  });
});
