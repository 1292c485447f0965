import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { packageRoot } from '../config/package-files.ts';
import { AgentdError, errorMessage } from '../core/errors.ts';

/** The agents `agentd init` scaffolds, from the package's `templates/` folder. */
export interface AgentTemplate {
  name: string;
  description: string;
  dir: string;
}

export interface Scaffolded {
  /** The new agent's folder, absolute. */
  dir: string;
  /** The agent's name: the folder's. */
  name: string;
  template: AgentTemplate;
  /** Whether a demo repository was made a git repository with its first commit. */
  demoRepository?: { path: string; git: boolean; note?: string };
}

const agentName = /^[a-z0-9][a-z0-9._-]*$/;

/** Where the templates are: `templates/` at the package's root. */
export function templatesDir(): string {
  return join(packageRoot(), 'templates');
}

/** Every template, with the description its agent.yaml gives. */
export function listTemplates(dir = templatesDir()): AgentTemplate[] {
  if (!existsSync(dir)) {
    throw new AgentdError(
      'spec_not_found',
      `init: no templates at ${dir}: this agentd install is incomplete (reinstall the agentd package)`,
    );
  }
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, 'agent.yaml')))
    .sort()
    .map((name) => {
      const spec = readFileSync(join(dir, name, 'agent.yaml'), 'utf8');
      return {
        name,
        dir: join(dir, name),
        description: /^description: (.+)$/m.exec(spec)?.[1]?.trim() ?? '',
      };
    });
}

/**
 * Copies a template into a new folder and names the agent after the folder: the spec's
 * `name:` and the policies' `Agent::"<template>"` principals. A `demo-repo/` folder in the
 * template becomes a git repository with one commit (the coder works in git). Refuses a
 * folder that exists and is not empty, and a folder name that cannot name an agent.
 */
export function scaffoldAgent(
  templateName: string,
  target: string | undefined,
  options: { templates?: string; git?: string } = {},
): Scaffolded {
  const templates = listTemplates(options.templates);
  const template = templates.find((t) => t.name === templateName);
  if (!template) {
    throw new AgentdError(
      'usage',
      `init: no template "${templateName}" (templates: ${templates.map((t) => t.name).join(', ')})`,
    );
  }
  const dir = resolve(target ?? template.name);
  const name = basename(dir);
  if (!agentName.test(name)) {
    throw new AgentdError(
      'usage',
      `init: the folder name "${name}" names the agent, and an agent's name uses lowercase letters, digits, ".", "_" or "-"; choose another folder`,
    );
  }
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) {
      throw new AgentdError(
        'usage',
        `init: ${target} exists and is not a folder; choose a new one`,
      );
    }
    if (readdirSync(dir).length > 0) {
      throw new AgentdError(
        'usage',
        `init: ${target} exists and is not empty; choose a new folder (nothing was changed)`,
      );
    }
  }
  cpSync(template.dir, dir, { recursive: true, errorOnExist: true, force: false });
  if (name !== template.name) rename(dir, template.name, name);
  const result: Scaffolded = { dir, name, template };
  const demo = join(dir, 'demo-repo');
  if (existsSync(demo)) result.demoRepository = initRepository(demo, options.git ?? 'git');
  return result;
}

/**
 * The agent's name in its spec (and its team file's, when it has one) and its principal in its
 * policies: `Agent::"<name>"`, and its team's members, `principal.name like "<name>/*"` (and
 * `agent: <name>/<member>` in its policy cases).
 */
function rename(dir: string, from: string, to: string): void {
  for (const file of [join(dir, 'agent.yaml'), join(dir, 'team.yaml')]) {
    if (!existsSync(file)) continue;
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        new RegExp(`^name: ${escapeRegExp(from)}$`, 'm'),
        `name: ${to}`,
      ),
    );
  }
  const cases = join(dir, 'policy-cases.yaml');
  if (existsSync(cases)) {
    // Cases for the members of its team name them <name>/<member>.
    writeFileSync(
      cases,
      readFileSync(cases, 'utf8').replaceAll(`agent: ${from}/`, `agent: ${to}/`),
    );
  }
  for (const file of filesUnder(dir)) {
    if (!file.endsWith('.cedar')) continue;
    const text = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      text
        .replaceAll(`Agent::"${from}"`, `Agent::"${to}"`)
        .replaceAll(`like "${from}/*"`, `like "${to}/*"`),
    );
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Makes `path` a git repository on branch main with everything in it committed, as
 * "agentd init" (the user's hooks and templates are not used), with a local author for the
 * commits an agent makes there (a sandboxed command does not see ~/.gitconfig).
 */
export function initRepository(
  path: string,
  git = 'git',
): { path: string; git: boolean; note?: string } {
  const run = (...args: string[]) =>
    execFileSync(git, ['-c', 'core.hooksPath=/dev/null', '-c', 'init.templateDir=', ...args], {
      cwd: path,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'agentd init',
        GIT_AUTHOR_EMAIL: 'init@agentd.invalid',
        GIT_COMMITTER_NAME: 'agentd init',
        GIT_COMMITTER_EMAIL: 'init@agentd.invalid',
      },
    });
  try {
    run('init', '--quiet', '--initial-branch=main');
    run('add', '-A');
    run('commit', '--quiet', '-m', 'the demo repository, as agentd init made it');
    run('config', 'user.name', 'agentd demo');
    run('config', 'user.email', 'demo@agentd.invalid');
    return { path, git: true };
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return {
      path,
      git: false,
      note: missing
        ? `git is not installed: ${relative(process.cwd(), path) || path} is not a git repository yet (install git, then run git init there)`
        : `could not make ${path} a git repository: ${errorMessage(error).split('\n')[0]}`,
    };
  }
}
