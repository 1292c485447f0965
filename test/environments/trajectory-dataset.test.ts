import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import type { DatasetManifest } from '../../src/data/manifest.ts';
import { sha256OfBuffer } from '../../src/data/manifest.ts';
import { decodePng } from '../../src/environments/png.ts';
import { runAgent } from '../../src/runtime/agent-loop.ts';
import { prepareAgent } from '../../src/runtime/prepare-agent.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { agentd, repoRoot } from '../support/cli.ts';
import { FakeProvider, reply } from '../support/fake-provider.ts';
import { FakeWorldModel } from '../support/fake-world-model.ts';
import { tempDir } from '../support/temp-dir.ts';

const spec = join(repoRoot, 'examples/gridworld/agent.yaml');
const CLAUDE = 'anthropic/claude-sonnet-4-5';

type Line = Record<string, unknown> & {
  source: { run: string };
  steps: { step: number; action: unknown; reward: number }[];
  lineage: {
    runId: string;
    models: { model: string; distillable: string; note: string; overridden?: true }[];
    turns: { seq: number; model: string; steps: number[] }[];
    environment: string;
    seed: number;
    policies: unknown[];
    redaction: { store: number; export: string };
  };
};

function jsonl<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as T);
}

/** A gridworld episode recorded in the home's store; `env` may point the model at a provider. */
async function record(
  home: string,
  seed: number,
  options: { env?: Record<string, string>; taskPrefix?: string } = {},
): Promise<string> {
  const config = loadConfig({ AGENTD_HOME: home, ...options.env });
  const agent = await prepareAgent(spec, { environment: { seed } }, { config, cwd: home });
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  try {
    const { runId } = await runAgent({
      store,
      agent: agent.agent,
      task: `${options.taskPrefix ?? ''}${agent.environment!.task()}`,
      specPath: spec,
      cwd: home,
    });
    return runId;
  } finally {
    await agent.toolset.close();
    await store.close();
  }
}

let fake: FakeProvider;
beforeAll(async () => {
  fake = await FakeProvider.start();
});
afterAll(() => fake.close());

describe('trajectory datasets', { timeout: 180_000 }, () => {
  it('scripted gridworld episodes export with lineage and a manifest that verifies; agentd env trajectories writes the same rows; an edited line fails', async () => {
    const home = tempDir();
    const runs = [await record(home, 3), await record(home, 5)];
    const out = join(tempDir(), 'episodes');
    const made = await agentd(['data', 'export', 'trajectories', '-o', out], { home });
    expect(made.code, made.stderr).toBe(0);
    const lines = jsonl<Line>(join(out, 'data.jsonl'));
    expect(lines.map((l) => l.source.run).sort()).toEqual([...runs].sort());
    for (const line of lines) {
      expect(line).toMatchObject({ environment: 'gridworld', success: true });
      const { lineage } = line;
      expect(lineage).toMatchObject({
        runId: line.source.run,
        environment: 'gridworld',
        seed: line.seed,
        policies: [{ mode: 'none' }],
        redaction: { store: 0, export: 'scanned: no credential-shaped text' },
      });
      expect(lineage.models).toEqual([
        expect.objectContaining({
          model: 'scripted/gridworld-navigator',
          provider: 'scripted',
          distillable: 'yes',
          source: 'agentd (scripted replays)',
        }),
      ]);
      // Every step is chosen by a turn the lineage names; the final answer's turn is not there.
      expect(lineage.turns.flatMap((t) => t.steps)).toEqual(line.steps.map((s) => s.step));
      expect(lineage.turns.every((t) => t.model === 'scripted/gridworld-navigator')).toBe(true);
    }
    expect(lines.map((l) => l.seed).sort()).toEqual([3, 5]);
    // lineage.jsonl carries the same block after the row's hash.
    const heads = jsonl<Record<string, unknown>>(join(out, 'lineage.jsonl'));
    for (const [i, head] of heads.entries()) {
      const { models: _models, ...block } = lines[i]!.lineage;
      expect(head).toMatchObject({ row: i + 1, ...block });
    }
    const manifest = JSON.parse(
      readFileSync(join(out, 'manifest.json'), 'utf8'),
    ) as DatasetManifest;
    expect(manifest).toMatchObject({
      kind: 'trajectories',
      format: 'agentd-trajectories',
      intendedUse: 'training',
      counts: { runsRead: 2, rows: 2, episodes: 2, runsWithoutEpisode: 0, refusedRuns: 0 },
      models: [{ model: 'scripted/gridworld-navigator', rows: 2, distillable: 'yes' }],
    });
    const verified = await agentd(['data', 'verify', out], { home });
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/✓ 2 rows match their hashes and the manifest \(trajectories/);

    // The env command is the same export: the same rows, a folder that verifies.
    const viaEnv = join(tempDir(), 'env');
    const env = await agentd(['env', 'trajectories', '-o', viaEnv], { home });
    expect(env.code, env.stderr).toBe(0);
    expect(readFileSync(join(viaEnv, 'data.jsonl'), 'utf8')).toBe(
      readFileSync(join(out, 'data.jsonl'), 'utf8'),
    );
    expect((await agentd(['data', 'verify', viaEnv], { home })).code).toBe(0);
    const printed = await agentd(['env', 'trajectories', '-n', '1'], { home });
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(
      `${readFileSync(join(out, 'data.jsonl'), 'utf8').split('\n')[0]}\n`,
    );
    expect(printed.stderr).toMatch(/no manifest is kept \(-o <dir> writes the dataset folder/);

    // An edited line: a reward made better after the export.
    const data = readFileSync(join(out, 'data.jsonl'), 'utf8').split('\n');
    const edited = JSON.parse(data[1]!) as Line;
    edited.steps[0]!.reward = 1;
    data[1] = JSON.stringify(edited);
    writeFileSync(join(out, 'data.jsonl'), data.join('\n'));
    const broken = await agentd(['data', 'verify', out], { home });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(
      /data\.jsonl:2: row edited \(sha256 [0-9a-f]{12}…, the lineage has/,
    );
  });

  it("an episode played by a model whose terms forbid training is refused and named, kept only with --allow-terms (recorded); the store's redactions are counted", async () => {
    const home = tempDir();
    const scripted = await record(home, 3, {
      // A key in the task: the store replaces it, the line says so.
      taskPrefix: 'Deploy key sk-ant-api03-abcdefghijklmnopqrstuvwx is not for you. ',
    });
    // Claude over the Anthropic wire: two moves, an invalid one, then an answer.
    fake.enqueue(reply.toolCalls([{ name: 'env_step', input: { action: 'up' } }]));
    fake.enqueue(
      reply.toolCalls([
        { name: 'env_step', input: { action: 'down' } },
        { name: 'env_step', input: { action: 'fly' } },
      ]),
    );
    fake.enqueue(reply.text('I stop here.'));
    const claude = await record(home, 4, {
      env: { ANTHROPIC_API_KEY: 'sk-ant-test-key-anthropic', ANTHROPIC_BASE_URL: fake.origin },
    });
    const out = join(tempDir(), 'ds');
    const made = await agentd(['data', 'export', 'trajectories', '-o', out], { home });
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toMatch(
      new RegExp(
        `refused run ${claude}: anthropic/claude-sonnet-4-5 \\(Anthropic's Commercial Terms forbid`,
      ),
    );
    expect(made.stderr).toMatch(/1 run was refused for models whose terms forbid training/);
    const kept = jsonl<Line>(join(out, 'data.jsonl'));
    expect(kept.map((l) => l.source.run)).toEqual([scripted]);
    expect(kept[0]!.lineage.redaction.store).toBe(1);
    expect(JSON.stringify(kept[0])).not.toMatch(/sk-ant-api03/);

    // Only the refused run: nothing to export, one line.
    const only = await agentd(
      ['env', 'trajectories', '--filter', `id=${claude}`, '-o', join(tempDir(), 'none')],
      { home },
    );
    expect(only.code).not.toBe(0);
    expect(only.stderr.trim().split('\n').at(-1)).toBe(
      `agentd: nothing to export: every matching run was refused for its models' terms (${CLAUDE}); see agentd models, or --allow-terms <model> if your contract allows it`,
    );

    const allowed = join(tempDir(), 'allowed');
    const over = await agentd(
      [
        'env',
        'trajectories',
        '-o',
        allowed,
        '--allow-terms',
        CLAUDE,
        '--allow-reason',
        'contract 42 permits it',
      ],
      { home },
    );
    expect(over.code, over.stderr).toBe(0);
    const lines = jsonl<Line>(join(allowed, 'data.jsonl'));
    const byClaude = lines.find((l) => l.source.run === claude)!;
    expect(byClaude.lineage.models).toEqual([
      expect.objectContaining({ model: CLAUDE, distillable: 'no', overridden: true }),
    ]);
    // The turns that chose the actions, the invalid one's included; the answer's turn is not.
    expect(byClaude.lineage.turns.map((t) => [t.model, t.steps])).toEqual([
      [CLAUDE, [1]],
      [CLAUDE, [2]],
    ]);
    expect(byClaude.invalid_actions).toEqual([
      {
        action: { action: 'fly' },
        error: expect.stringMatching(/action must be \{"action": one of up, down, left, right\}/),
      },
    ]);
    const manifest = JSON.parse(
      readFileSync(join(allowed, 'manifest.json'), 'utf8'),
    ) as DatasetManifest;
    expect(manifest.overrides).toEqual([
      expect.objectContaining({
        model: CLAUDE,
        distillable: 'no',
        reason: 'contract 42 permits it',
      }),
    ]);
    expect((await agentd(['data', 'verify', allowed], { home })).code).toBe(0);
    // The override taken out of the manifest: the verify names the row.
    writeFileSync(
      join(allowed, 'manifest.json'),
      JSON.stringify({ ...manifest, overrides: [] }, null, 2),
    );
    const unsealed = await agentd(['data', 'verify', allowed], { home });
    expect(unsealed.code).toBe(1);
    expect(unsealed.stderr).toMatch(
      /lineage\.jsonl: row \d has text from anthropic\/claude-sonnet-4-5, whose terms forbid training, and the manifest records no override/,
    );
  });

  it('a secret in an episode stops the export with the run named, and nothing is left', async () => {
    const home = tempDir();
    const runId = await record(home, 2, { taskPrefix: 'The door code is 7f3k9q2m-tulip. ' });
    const out = join(tempDir(), 'ds');
    const result = await agentd(['data', 'export', 'trajectories', '-o', out], {
      home,
      env: { DOOR_PASSWORD: '7f3k9q2m-tulip' },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr.trim()).toMatch(
      new RegExp(
        `^agentd: run ${runId} \\(events 0–\\d+\\): the row would contain a credential set in the environment \\(7f3k9q\\*+\\); nothing was written`,
      ),
    );
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it("a world model's frames are copied into the folder and listed in the manifest: moved to another machine (store gone) it verifies and its frames load", async () => {
    const world = await new FakeWorldModel().start();
    try {
      const home = tempDir();
      const agentSpec = join(home, 'walker.yaml');
      writeFileSync(
        agentSpec,
        `name: beacon-walker\nmodel: anthropic/claude-sonnet-4-5\nscript: ${join(repoRoot, 'examples/gridworld/policy.ts')}\ninstructions: Walk to the beacon.\nenvironment:\n  kind: world-model\n  url: ${world.wsUrl}\n  prompt: a grassy plain\n  max_steps: 12\n`,
      );
      const config = loadConfig({ AGENTD_HOME: home });
      const store = new SqliteStore({ path: join(home, 'agentd.db') });
      try {
        for (const seed of [1, 2]) {
          const agent = await prepareAgent(
            agentSpec,
            { environment: { seed } },
            { config, cwd: home },
          );
          try {
            await runAgent({
              store,
              agent: agent.agent,
              task: agent.environment!.task(),
              specPath: agentSpec,
              cwd: home,
            });
          } finally {
            await agent.toolset.close();
          }
        }
      } finally {
        await store.close();
      }
      const out = join(tempDir(), 'walks');
      const made = await agentd(['data', 'export', 'trajectories', '-o', out], { home });
      expect(made.code, made.stderr).toBe(0);
      expect(made.stderr).toMatch(/^wrote 2 rows to .* and \d+ frames in frames\//);
      const lines = jsonl<Line & { frames: string[] }>(join(out, 'data.jsonl'));
      // Seed 1: 3 steps, seed 2: 4; the reset's frame and one a step.
      expect(lines.map((l) => l.frames.length).sort()).toEqual([4, 5]);
      const digests = [...new Set(lines.flatMap((l) => l.frames))].sort();
      const manifest = JSON.parse(
        readFileSync(join(out, 'manifest.json'), 'utf8'),
      ) as DatasetManifest;
      expect(manifest.attachments!.map((a) => a.path)).toEqual(
        digests.map((d) => `frames/${d}.png`),
      );
      expect(readdirSync(join(out, 'frames')).sort()).toEqual(digests.map((d) => `${d}.png`));

      // Another machine: the folder copied, the store and its frames gone.
      const moved = join(tempDir(), 'walks');
      cpSync(out, moved, { recursive: true });
      rmSync(home, { recursive: true, force: true });
      const verified = await agentd(['data', 'verify', moved], { home: tempDir() });
      expect(verified.code, verified.stdout + verified.stderr).toBe(0);
      for (const line of lines) {
        for (const digest of line.frames) {
          const png = readFileSync(join(moved, 'frames', `${digest}.png`));
          expect(sha256OfBuffer(png)).toBe(digest);
          expect(decodePng(png)).toMatchObject({ width: 64, height: 64 });
        }
      }
      // A frame lost from the folder, or changed, is named.
      rmSync(join(moved, 'frames', `${digests[0]}.png`));
      writeFileSync(join(moved, 'frames', `${digests[1]}.png`), 'not a frame');
      const broken = await agentd(['data', 'verify', moved], { home: tempDir() });
      expect(broken.code).not.toBe(0);
      const said = broken.stdout + broken.stderr;
      expect(said).toContain(`frames/${digests[0]}.png: missing (the rows refer to it)`);
      expect(said).toContain(`frames/${digests[1]}.png: changed since the export`);
      // A manifest that no longer lists a frame a row names: the row is named.
      const edited = JSON.parse(
        readFileSync(join(moved, 'manifest.json'), 'utf8'),
      ) as DatasetManifest;
      edited.attachments = edited.attachments!.filter((a) => a.path !== `frames/${digests[2]}.png`);
      writeFileSync(join(moved, 'manifest.json'), JSON.stringify(edited));
      const unlisted = await agentd(['data', 'verify', moved], { home: tempDir() });
      expect(unlisted.stdout + unlisted.stderr).toMatch(
        new RegExp(`data\\.jsonl:\\d: frame ${digests[2]!.slice(0, 12)}… is not in the folder`),
      );
    } finally {
      await world.close();
    }
  });

  it('a frame lost from the frame store stops the export in one line, and nothing is left', async () => {
    const world = await new FakeWorldModel().start();
    try {
      const home = tempDir();
      const agentSpec = join(home, 'walker.yaml');
      writeFileSync(
        agentSpec,
        `name: beacon-walker\nmodel: anthropic/claude-sonnet-4-5\nscript: ${join(repoRoot, 'examples/gridworld/policy.ts')}\ninstructions: Walk.\nenvironment:\n  kind: world-model\n  url: ${world.url}\n  prompt: a hill\n  seed: 1\n  max_steps: 5\n`,
      );
      const config = loadConfig({ AGENTD_HOME: home });
      const store = new SqliteStore({ path: join(home, 'agentd.db') });
      let runId: string;
      try {
        const agent = await prepareAgent(agentSpec, {}, { config, cwd: home });
        try {
          ({ runId } = await runAgent({
            store,
            agent: agent.agent,
            task: agent.environment!.task(),
            specPath: agentSpec,
            cwd: home,
          }));
        } finally {
          await agent.toolset.close();
        }
      } finally {
        await store.close();
      }
      const lost = readdirSync(join(home, 'frames')).sort()[0]!;
      rmSync(join(home, 'frames', lost));
      const out = join(tempDir(), 'ds');
      const result = await agentd(['data', 'export', 'trajectories', '-o', out], { home });
      expect(result.code).not.toBe(0);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(
        new RegExp(
          `^agentd: run ${runId} \\(events 0–\\d+\\): frame ${lost.slice(0, 12)}… is not in .*frames \\(lost from the frame store\\); leave the run out \\(--exclude ${runId}\\)`,
        ),
      );
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
      // The lines on stdout do not need the frames: they name them by digest.
      const lines = await agentd(['env', 'trajectories'], { home });
      expect(lines.code, lines.stderr).toBe(0);
      expect(JSON.parse(lines.stdout.trim()).frames).toContain(lost.replace('.png', ''));
    } finally {
      await world.close();
    }
  });

  it('bad input is one line each', async () => {
    const home = tempDir();
    const full = tempDir();
    writeFileSync(join(full, 'keep.txt'), 'x');
    const empty = await agentd(['env', 'trajectories'], { home });
    expect(empty.stderr.trim()).toMatch(/^agentd: nothing to export: no runs are stored in .* yet/);
    await record(home, 1);
    const cases: [string[], string][] = [
      [
        ['env', 'trajectories', '-o', 'episodes.jsonl'],
        'agentd: -o episodes.jsonl: give a folder, not a file: a trajectory dataset is a folder (data.jsonl, lineage.jsonl, manifest.json, DATASET.md) that agentd data verify checks; leave -o out for the lines on stdout',
      ],
      [
        ['data', 'export', 'trajectories', '-o', full],
        `agentd: ${full}: the folder is not empty; give -o a new folder (a dataset is never written over another)`,
      ],
      [
        ['env', 'trajectories', '--filter', 'agent=nobody'],
        'agentd: nothing to export: no stored run with an environment episode matches the selection (see agentd runs list)',
      ],
      [
        ['env', 'trajectories', '--allow-terms', 'claude'],
        'agentd: --allow-terms "claude": write provider/model-id, as agentd models lists it',
      ],
      [
        ['env', 'trajectories', '--filter', 'colour=red'],
        'agentd: --filter "colour=red": write key=value with key one of',
      ],
    ];
    for (const [args, line] of cases) {
      const result = await agentd(args, { home });
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr.trim().startsWith(line), `${args.join(' ')}: ${result.stderr}`).toBe(
        true,
      );
    }
  });
});
