import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import type { Redactor } from '../../core/redact.ts';
import { openStore } from '../../store/open-store.ts';
import type { Store } from '../../store/store.ts';
import type { TeamBudget, TeamRecord, TeamStatus } from '../../store/team-store.ts';
import { teamOverview } from '../../teams/overview.ts';
import { prepareTeam, teamRoster } from '../../teams/prepare-team.ts';
import { resumeTeam, runTeam, type TeamResult } from '../../teams/runner.ts';
import { TeamSession } from '../../teams/session.ts';
import { loadTeamSpec } from '../../teams/team-spec.ts';
import { clip, formatDuration, paint, printNotice, table } from '../format.ts';
import { cancelOnInterrupt } from '../run-view.ts';
import { boardTable, createTeamView, teamStatusStyle, usageLine } from '../team-view.ts';

export interface TeamFlags {
  json?: boolean;
  maxRunning?: number;
  /** The team budget (over the team file's). */
  budget?: TeamBudget;
  rerunInDoubt?: boolean;
  skipInDoubt?: boolean;
}

/** Exit codes: 0 completed, 1 failed, 3 budget exceeded, 4 needs attention, 130 cancelled. */
export const teamExitCodes: Record<TeamStatus, number> = {
  running: 1,
  completed: 0,
  failed: 1,
  budget_exceeded: 3,
  needs_attention: 4,
  cancelled: 130,
};

/** A store whose redactor is known only once the members are prepared (their secrets). */
function deferredStore(): { store: Store; setRedactor(redact: Redactor): void } {
  let current: Redactor = (text) => text;
  const store = openStore(loadConfig(), { redact: (text) => current(text) });
  return { store, setRedactor: (redact) => (current = redact) };
}

/** `agentd team run <team.yaml> "<task>"`: the board live on stderr, the result on stdout. */
export async function teamRunCommand(
  file: string,
  task: string | undefined,
  flags: TeamFlags,
): Promise<number> {
  if (!task?.trim()) {
    throw new AgentdError(
      'usage',
      'the task is empty: give the team a job, e.g. agentd team run team.yaml "document every module in src/"',
    );
  }
  const config = loadConfig();
  const path = resolve(file);
  const spec = loadTeamSpec(path, config);
  const { store, setRedactor } = deferredStore();
  try {
    const session = new TeamSession({
      store,
      teamId: newId('team'),
      name: spec.name,
      members: teamRoster(spec),
    });
    const prepared = await prepareTeam(spec, session, { onNotice: printNotice });
    setRedactor(prepared.redact);
    try {
      return await drive(prepared.redact, flags, (io) =>
        runTeam({
          ...io,
          store,
          session,
          team: {
            ...prepared.setup,
            maxRunning: flags.maxRunning ?? prepared.setup.maxRunning,
            budget: { ...prepared.setup.budget, ...flags.budget },
          },
          task: task.trim(),
          specPath: path,
          cwd: process.cwd(),
        }),
      );
    } finally {
      await prepared.close();
    }
  } finally {
    await store.close();
  }
}

/** `agentd team resume <id>`: the team goes on from its board, mailboxes and runs. */
export async function teamResumeCommand(id: string, flags: TeamFlags): Promise<number> {
  if (flags.rerunInDoubt && flags.skipInDoubt) {
    throw new AgentdError(
      'usage',
      '--rerun-in-doubt and --skip-in-doubt exclude each other: choose one',
    );
  }
  const config = loadConfig();
  const { store, setRedactor } = deferredStore();
  try {
    const team = await findTeam(store, id);
    if (team.status === 'completed') {
      throw new AgentdError(
        'run_not_resumable',
        `team ${team.id} already completed; there is nothing to resume (agentd team show ${team.id})`,
      );
    }
    if (!existsSync(team.specPath)) {
      throw new AgentdError(
        'spec_not_found',
        `team ${team.id} was started from ${team.specPath || 'code, not a team file'}, which is gone; restore it to resume the team`,
      );
    }
    if (team.cwd && team.cwd !== process.cwd() && existsSync(team.cwd)) {
      process.stderr.write(`${paint('dim', `(in ${team.cwd}, where the team started)`)}\n`);
      process.chdir(team.cwd);
    }
    const spec = loadTeamSpec(team.specPath, config);
    if (spec.name !== team.name) {
      throw new AgentdError(
        'spec_invalid',
        `${team.specPath}: name: the file now names team "${spec.name}", but team ${team.id} is "${team.name}"; restore the name to resume it`,
      );
    }
    const session = new TeamSession({
      store,
      teamId: team.id,
      name: spec.name,
      members: teamRoster(spec),
    });
    const prepared = await prepareTeam(spec, session, { onNotice: printNotice });
    setRedactor(prepared.redact);
    try {
      return await drive(prepared.redact, flags, (io) =>
        resumeTeam({
          ...io,
          store,
          session,
          teamId: team.id,
          team: {
            ...prepared.setup,
            maxRunning: flags.maxRunning ?? prepared.setup.maxRunning,
          },
          ...(flags.budget && Object.keys(flags.budget).length ? { budget: flags.budget } : {}),
          ...(flags.rerunInDoubt ? { inDoubt: 'rerun' as const } : {}),
          ...(flags.skipInDoubt ? { inDoubt: 'skip' as const } : {}),
        }),
      );
    } finally {
      await prepared.close();
    }
  } finally {
    await store.close();
  }
}

async function drive(
  redact: Redactor,
  flags: TeamFlags,
  run: (io: {
    signal: AbortSignal;
    onTeamEvent: ReturnType<typeof createTeamView>['onTeamEvent'];
    onRunEvent: ReturnType<typeof createTeamView>['onRunEvent'];
  }) => Promise<TeamResult>,
): Promise<number> {
  const view = createTeamView({ json: flags.json ?? false, redact });
  const interrupt = cancelOnInterrupt();
  let result: TeamResult;
  try {
    result = await run({
      signal: interrupt.signal,
      onTeamEvent: view.onTeamEvent,
      onRunEvent: view.onRunEvent,
    });
  } finally {
    interrupt.dispose();
  }
  if (!flags.json) {
    const err = process.stderr;
    err.write(`\n${boardTable(result.tasks)}\n`);
    err.write(
      `${paint(teamStatusStyle(result.status), result.status === 'completed' ? `✓ ${result.status}` : `✗ ${result.status}`)} ${paint('dim', `· ${usageLine(result.usage)}`)}\n`,
    );
    if (result.detail && result.status !== 'completed') {
      err.write(`${paint('dim', 'why:')} ${result.detail}\n`);
    }
    err.write(paint('dim', `team ${result.teamId} · agentd team show ${result.teamId}\n`));
    if (result.result !== undefined) process.stdout.write(`${redact(result.result)}\n`);
  }
  return teamExitCodes[result.status];
}

async function findTeam(store: Store, id: string): Promise<TeamRecord> {
  const team = await store.teams.getTeam(id);
  if (!team) {
    throw new AgentdError(
      'run_not_found',
      `no team "${id}" (or the prefix matches several): see agentd team list`,
    );
  }
  return team;
}

/** `agentd team list`: recent teams. */
export async function teamListCommand(options: {
  limit?: number;
  json?: boolean;
}): Promise<number> {
  const store = openStore(loadConfig());
  try {
    const teams = await store.teams.listTeams(options.limit ?? 20);
    if (options.json) {
      for (const t of teams) process.stdout.write(`${JSON.stringify(t)}\n`);
      return 0;
    }
    if (teams.length === 0) {
      process.stdout.write('No teams yet: agentd team run <team.yaml> "<task>" starts one.\n');
      return 0;
    }
    const rows: string[][] = [];
    for (const t of teams) {
      const tasks = await store.teams.listTasks(t.id);
      rows.push([
        t.id,
        t.name,
        t.status,
        `${tasks.filter((x) => x.status === 'done').length}/${tasks.length}`,
        t.createdAt.replace('T', ' ').slice(0, 19),
        clip(t.task, 50),
      ]);
    }
    process.stdout.write(`${table(['team', 'name', 'status', 'done', 'started', 'job'], rows)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** `agentd team show <id>`: the board, the message history and each member's runs. */
export async function teamShowCommand(id: string, options: { json?: boolean }): Promise<number> {
  const store = openStore(loadConfig());
  try {
    const { team, usage, tasks, runs, messages, log } = await teamOverview(
      store,
      await findTeam(store, id),
    );
    const members = runs.map((m) => ({
      ...m,
      cost: m.costUsd === null ? 'unknown' : `$${m.costUsd.toFixed(4)}`,
    }));
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ team, usage, tasks, runs: members.map(({ costUsd: _, ...m }) => m), messages, log }, null, 2)}
`,
      );
      return 0;
    }
    const out = process.stdout;
    const style = (s: string) => paint(teamStatusStyle(team.status), s, process.stdout);
    out.write(`team ${team.id} · ${team.name} · ${style(team.status)}\n`);
    out.write(`job: ${team.task}\n`);
    out.write(`started ${team.createdAt} · ${usageLine(usage)}\n`);
    const budget = Object.entries(team.budget)
      .map(
        ([k, v]) =>
          `${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace('_ms', '')} ${k === 'maxTimeMs' ? formatDuration(v as number) : v}`,
      )
      .join(', ');
    if (budget) out.write(`budget: ${budget}\n`);
    if (team.detail) out.write(`why: ${team.detail}\n`);
    out.write(`\nboard\n${boardTable(tasks, 80)}\n`);
    out.write('\nmessages\n');
    if (messages.length === 0) out.write('(none)\n');
    for (const m of messages) {
      out.write(
        `${m.at.slice(11, 19)} ${m.from} → ${m.to}${m.auto ? ' (auto)' : ''}: ${clip(m.text, 200)}\n`,
      );
    }
    out.write('\nmembers\n');
    out.write(
      `${table(
        ['member', 'task', 'run', 'status', 'turns', 'tokens', 'cost'],
        members.map((m) => [
          m.member,
          m.task ?? '-',
          m.runId,
          m.status,
          String(m.turns),
          String(m.tokens),
          m.cost,
        ]),
      )}\n`,
    );
    out.write(paint('dim', 'each run in full: agentd runs show <run>\n', process.stdout));
    if (team.result !== undefined) out.write(`\nresult\n${team.result}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
