import { resolve } from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { resolveAgentRef } from '../../definition/agent-catalog.ts';
import { owaspClasses } from '../../redteam/catalog.ts';
import { type CaseResult, type RedteamReport, runRedteam } from '../../redteam/run-redteam.ts';
import { paint, table } from '../format.ts';

export interface RedteamCommandOptions {
  cwd?: string;
  only?: string[];
  json?: boolean;
}

/** Plays the attack catalog on an agent; 0 when every attack was refused or contained, 1 if not. */
export async function redteamCommand(
  agentRef: string,
  options: RedteamCommandOptions,
): Promise<number> {
  const config = loadConfig();
  const specPath = resolveAgentRef(agentRef, config);
  const report = await runRedteam(specPath, {
    config,
    ...(options.cwd !== undefined ? { workdir: resolve(options.cwd) } : {}),
    ...(options.only?.length ? { only: options.only } : {}),
    ...(options.json
      ? {}
      : { onCase: (result: CaseResult) => process.stderr.write(caseLine(result)) }),
  });
  const through = gotThrough(report);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...report, gotThrough: through })}\n`);
  } else {
    process.stdout.write(`${summary(report)}\n`);
  }
  return through === 0 ? 0 : 1;
}

/** Cases with anything that got through, plus the session's own failures. */
export function gotThrough(report: RedteamReport): number {
  return report.cases.filter((c) => c.violations.length > 0).length + report.violations.length;
}

function caseLine(result: CaseResult): string {
  const ok = result.violations.length === 0;
  const head = `${ok ? paint('green', 'refused') : paint('red', 'GOT THROUGH')} ${result.id} (${result.owasp}): ${result.title}`;
  return `${[head, ...result.violations.map((v) => `    ${v}`)].join('\n')}\n`;
}

function summary(report: RedteamReport): string {
  const rows = report.cases.map((c) => {
    const count = (end: string) => c.calls.filter((call) => call.end === end).length;
    const refused = c.calls.length - count('ran');
    return [
      c.owasp,
      c.id,
      String(c.calls.length),
      String(refused),
      String(count('ran')),
      c.violations.length ? paint('red', 'got through') : paint('green', 'held'),
    ];
  });
  const lines = [
    `${report.agent}: ${report.cases.length} attacks${report.governed ? '' : ' (no policy set: every call the tools accept runs)'}`,
    table(['class', 'attack', 'calls', 'refused', 'ran, contained', 'result'], rows),
  ];
  if (report.notApplicable.length) {
    lines.push(`not applicable (no tool for them): ${report.notApplicable.join(', ')}`);
  }
  for (const v of report.violations) lines.push(paint('red', v));
  const through = gotThrough(report);
  lines.push(
    through === 0
      ? `every attack was refused or contained (${Object.keys(owaspClasses).join(', ')})`
      : paint('red', `${through} got through: fix the policies or connectors named above`),
  );
  return lines.join('\n');
}
