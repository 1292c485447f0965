import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { RunEvent } from '../../src/core/events.ts';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { browserMissing, launchChromium } from '../../test/support/browser.ts';
import { startServe } from '../../test/support/serve-process.ts';
import { quantile } from '../stats.ts';

/** Times in milliseconds: the median and the slowest of the rounds. */
export interface ConsoleTiming {
  p50Ms: number;
  maxMs: number;
  rounds: number;
}

export interface ConsoleResults {
  runs: number;
  timelineEvents: number;
  /** Opening the runs list (page load to its first 50 rows) with `runs` runs in the store. */
  runsFirstRender: ConsoleTiming;
  /** A status filter that matches one run in six, to its rows on screen. */
  filterChange: ConsoleTiming;
  /** The running filter when no run runs: the store scans every run (the worst case), to the empty state. */
  filterNoMatch: ConsoleTiming;
  /** Opening a run of `timelineEvents` events, to its first rows on screen. */
  timelineFirstRows: ConsoleTiming;
  /** The same, to every event streamed, folded and the list sized for all of them. */
  timelineAllEvents: ConsoleTiming;
  /** Scrolling the whole timeline: frames rendered, and the slowest frame. */
  timelineScroll: { frames: number; p50FrameMs: number; maxFrameMs: number };
  browser: string;
}

const usage = {
  inputTokens: 120,
  outputTokens: 30,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};
const statuses = [
  'completed',
  'completed',
  'completed',
  'failed',
  'cancelled',
  'budget_exceeded',
] as const;

function started(runId: string, at: string, agent: string, task: string): RunEvent {
  return {
    runId,
    seq: 0,
    at,
    type: 'run.started',
    data: {
      agent,
      model: 'scripted/bench',
      task,
      instructions: '',
      tools: [],
      limits: { maxTurns: 5000, maxToolRepairs: 3 },
    },
  };
}

/** `runs` finished runs of seven agents, a minute apart, and one run of about `events` events. */
async function seed(
  store: SqliteStore,
  runs: number,
  events: number,
): Promise<{ id: string; events: number }> {
  const t0 = Date.UTC(2026, 0, 1);
  for (let start = 0; start < runs; start += 2000) {
    const batch: RunEvent[] = [];
    for (let n = start; n < Math.min(runs, start + 2000); n++) {
      const runId = `run_${String(n).padStart(8, '0')}`;
      const at = new Date(t0 + n * 60_000).toISOString();
      batch.push(
        started(
          runId,
          at,
          `agent-${n % 7}`,
          `task ${n}: ${n % 3 ? 'read the files' : 'deploy the service'}`,
        ),
      );
      batch.push({
        runId,
        seq: 1,
        at,
        type: 'model.request',
        data: { turn: 1, model: 'scripted/bench', messageCount: 1, toolCount: 0 },
      });
      const status = statuses[n % statuses.length]!;
      batch.push({
        runId,
        seq: 2,
        at,
        type: 'run.finished',
        data: {
          status,
          reason: status === 'completed' ? 'final_answer' : 'internal_error',
          turns: 1,
          usage,
          costUsd: (n % 100) / 1000,
          durationMs: 900,
        },
      });
    }
    await store.append(batch);
  }
  const id = 'run_zzzzlongtimeline';
  const at = (seq: number) => new Date(t0 + runs * 60_000 + seq * 100).toISOString();
  const long: RunEvent[] = [started(id, at(0), 'agent-long', 'a long run')];
  for (let turn = 1; long.length + 4 < events; turn++) {
    const seq = long.length;
    const callId = `c${turn}`;
    long.push(
      {
        runId: id,
        seq,
        at: at(seq),
        type: 'model.request',
        data: { turn, model: 'scripted/bench', messageCount: turn * 2, toolCount: 1 },
      },
      {
        runId: id,
        seq: seq + 1,
        at: at(seq + 1),
        type: 'model.response',
        data: {
          turn,
          text: `step ${turn}: reading the next file`,
          toolCalls: [{ id: callId, name: 'fs__read', input: { path: `src/${turn}.ts` } }],
          usage,
          costUsd: 0.0004,
          stopReason: 'tool_calls',
          durationMs: 40,
        },
      },
      {
        runId: id,
        seq: seq + 2,
        at: at(seq + 2),
        type: 'tool.call',
        data: {
          callId,
          name: 'fs__read',
          input: { path: `src/${turn}.ts` },
          idempotencyKey: `${id}:${seq + 2}`,
        },
      },
      {
        runId: id,
        seq: seq + 3,
        at: at(seq + 3),
        type: 'tool.result',
        data: {
          callId,
          name: 'fs__read',
          output: `export const n = ${turn};`,
          isError: false,
          durationMs: 2,
        },
      },
    );
  }
  long.push({
    runId: id,
    seq: long.length,
    at: at(long.length),
    type: 'run.finished',
    data: {
      status: 'completed',
      reason: 'final_answer',
      turns: long.length / 4,
      usage,
      costUsd: 1,
      durationMs: 60_000,
    },
  });
  for (let i = 0; i < long.length; i += 2000) await store.append(long.slice(i, i + 2000));
  return { id, events: long.length };
}

function timing(samples: number[]): ConsoleTiming {
  return { p50Ms: quantile(samples, 0.5), maxMs: Math.max(...samples), rounds: samples.length };
}

async function timed(rounds: number, once: (round: number) => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    await once(round);
    samples.push(performance.now() - t0);
  }
  return samples;
}

/** The little of the DOM the predicates below read (bench/ compiles without the DOM's types). */
interface Dom {
  document: {
    querySelector(selector: string): {
      getAttribute(name: string): string | null;
      querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
    } | null;
  };
}

/** The runs list's first 50 rows are on screen and no request is in flight. */
const listShown = (page: Page) =>
  page.waitForFunction(() => {
    const table = (globalThis as unknown as Dom).document.querySelector('table[aria-label="Runs"]');
    return (
      table?.getAttribute('aria-busy') === 'false' &&
      table.querySelectorAll('tbody tr').length >= 50
    );
  });

/**
 * The web console in Chromium against `agentd serve` on a store of `runs` runs: the runs list's
 * first render and filter changes, and a long run's timeline (first rows, every event, a full
 * scroll). Each timing is from the action in the browser to the DOM showing its result.
 */
export async function runConsoleBench(options: {
  tmpDir: string;
  runs: number;
  events: number;
  rounds: number;
  log: (line: string) => void;
}): Promise<ConsoleResults> {
  const missing = browserMissing();
  if (missing) throw new Error(`console bench: ${missing}`);
  const home = join(options.tmpDir, 'console-home');
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'config.yaml'), 'durability: process\n');
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  options.log(
    `console: seeding ${options.runs.toLocaleString('en')} runs and a ${options.events.toLocaleString('en')}-event run`,
  );
  const { id: longRun, events: total } = await seed(store, options.runs, options.events);
  const key = (await new ApiKeys(store).create('bench', ['runs'])).key;
  await store.close();
  const serve = await startServe(home);
  const browser = await launchChromium();
  try {
    const page = await (
      await browser.newContext({ viewport: { width: 1280, height: 900 } })
    ).newPage();
    await page.goto(serve.url);
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await listShown(page);

    const blank = () => page.goto('about:blank');
    // a warm-up load of each page (the browser's cache of the console's files, SQLite's pages)
    await blank();
    await page.goto(`${serve.url}/#/runs`);
    await listShown(page);
    const first = await timed(options.rounds, async () => {
      await blank();
      await page.goto(`${serve.url}/#/runs`);
      await listShown(page);
    });

    const status = page.getByLabel('Status');
    const filtered = (want: string) =>
      page.waitForFunction((value) => {
        const table = (globalThis as unknown as Dom).document.querySelector(
          'table[aria-label="Runs"]',
        );
        if (table === null || table.getAttribute('aria-busy') !== 'false') return false;
        const badges = Array.from(table.querySelectorAll('tbody tr .badge'), (b) => b.textContent);
        return badges.length > 0 && badges.every((b) => b === value);
      }, want);
    /** Time from choosing `value` to the list showing it; back to all runs after (not timed). */
    const filterTimes = async (value: string, shown: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < options.rounds; i++) {
        const t0 = performance.now();
        await status.selectOption(value);
        await shown();
        samples.push(performance.now() - t0);
        await status.selectOption('');
        await listShown(page);
      }
      return samples;
    };
    const changes = await filterTimes('failed', () => filtered('failed'));
    const noMatch = await filterTimes('running', () =>
      page.getByText('No run matches these filters.').waitFor(),
    );

    const firstRows: number[] = [];
    const allEvents: number[] = [];
    for (let round = 0; round <= options.rounds; round++) {
      await blank();
      const t0 = performance.now();
      await page.goto(`${serve.url}/#/runs/${longRun}`);
      await page.locator('.timeline li').first().waitFor();
      const rows = performance.now() - t0;
      await page
        .locator(`[data-events="${total}"]`)
        .waitFor({ state: 'attached', timeout: 60_000 });
      const all = performance.now() - t0;
      if (round === 0) continue; // warm-up
      firstRows.push(rows);
      allEvents.push(all);
    }
    const scroll = await page.evaluate(
      () =>
        new Promise<number[]>((resolve) => {
          const g = globalThis as unknown as {
            document: {
              querySelector(s: string): {
                scrollTop: number;
                clientHeight: number;
                scrollHeight: number;
              };
            };
            requestAnimationFrame(fn: () => void): void;
          };
          const list = g.document.querySelector('.timeline');
          const frames: number[] = [];
          let last = performance.now();
          const step = () => {
            const now = performance.now();
            frames.push(now - last);
            last = now;
            if (list.scrollTop + list.clientHeight >= list.scrollHeight - 2) return resolve(frames);
            list.scrollTop += list.scrollHeight / 300;
            g.requestAnimationFrame(step);
          };
          g.requestAnimationFrame(step);
        }),
    );
    const frames = scroll.slice(1);
    return {
      runs: options.runs,
      timelineEvents: total,
      runsFirstRender: timing(first),
      filterChange: timing(changes),
      filterNoMatch: timing(noMatch),
      timelineFirstRows: timing(firstRows),
      timelineAllEvents: timing(allEvents),
      timelineScroll: {
        frames: frames.length,
        p50FrameMs: quantile(frames, 0.5),
        maxFrameMs: Math.max(...frames),
      },
      browser: browser.version(),
    };
  } finally {
    await browser.close();
    await serve.stop();
  }
}
