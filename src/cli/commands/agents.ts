import { loadConfig } from '../../config/config.ts';
import {
  findAgent,
  listAgents,
  specSummary,
  unknownAgent,
} from '../../definition/agent-catalog.ts';
import { loadAgentSpec } from '../../definition/agent-spec.ts';
import { clip, paint, table } from '../format.ts';

function notes(lines: readonly string[]): void {
  for (const line of lines) process.stderr.write(`${paint('yellow', 'note:')} ${line}\n`);
}

export function agentsListCommand(options: { json?: boolean }): number {
  const catalog = listAgents(loadConfig());
  notes(catalog.notes);
  if (options.json) {
    for (const agent of catalog.agents) process.stdout.write(`${JSON.stringify(agent)}\n`);
    return 0;
  }
  if (catalog.agents.length === 0) {
    process.stdout.write(
      `no agents yet: put <name>.yaml or <name>/agent.yaml in ${catalog.dirs[0]}, or name folders of specs in agent_dirs in config.yaml\n`,
    );
    return 0;
  }
  const rows = catalog.agents.map((a) => [
    a.name,
    a.model ?? '-',
    a.valid ? 'ok' : 'broken',
    clip((a.valid ? a.description : a.error) ?? '', 100),
  ]);
  process.stdout.write(`${table(['NAME', 'MODEL', 'STATE', 'DESCRIPTION'], rows)}\n`);
  return 0;
}

export function agentsShowCommand(name: string, options: { json?: boolean }): number {
  const catalog = listAgents(loadConfig());
  const agent = findAgent(catalog, name);
  if (!agent) throw unknownAgent(catalog, name);
  const spec = agent.valid ? specSummary(loadAgentSpec(agent.path)) : undefined;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...agent, ...(spec ? { spec } : {}) }, null, 2)}\n`);
    return 0;
  }
  const o = process.stdout;
  o.write(`${paint('bold', agent.name, o)} · ${agent.valid ? 'ok' : 'broken'}\n`);
  o.write(`path:         ${agent.path}\n`);
  if (agent.model) o.write(`model:        ${agent.model}\n`);
  if (!spec) {
    o.write(`error:        ${agent.error}\n`);
    return 0;
  }
  if (spec.description) o.write(`description:  ${String(spec.description)}\n`);
  const tools = spec.tools as string[];
  o.write(`tools:        ${tools.length ? tools.join(', ') : 'none'}\n`);
  for (const key of ['connectors', 'limits', 'model_settings', 'compaction'] as const) {
    if (spec[key] !== undefined) o.write(`${`${key}:`.padEnd(14)}${JSON.stringify(spec[key])}\n`);
  }
  if (spec.script) o.write(`script:       ${String(spec.script)}\n`);
  const instructions = String(spec.instructions).trimEnd();
  if (instructions) o.write(`\n${instructions}\n`);
  return 0;
}
