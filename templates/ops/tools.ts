import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineTool, z } from 'agentd';

/** Where the reports go: reports/ beside this file. */
const reportsDir = join(import.meta.dirname, 'reports');

const entry = z.object({
  time: z
    .string()
    .min(1)
    .optional()
    .describe('When it happened, as the evidence says (e.g. a log timestamp)'),
  event: z.string().min(1).describe('What was observed or done'),
  evidence: z.string().min(1).optional().describe('The command or log line it rests on'),
});

export const incidentReport = defineTool({
  name: 'incident_report',
  description:
    'Write the incident report (Markdown, in the agent folder under reports/): impact, root cause, the timeline of what was observed and done, and follow-ups. Call it once, at the end. Returns the report.',
  input: z.object({
    title: z.string().min(1),
    status: z.enum(['resolved', 'mitigated', 'open']),
    impact: z.string().min(1),
    root_cause: z.string().min(1),
    timeline: z.array(entry).min(1),
    follow_ups: z.array(z.string().min(1)).default([]),
  }),
  idempotent: true,
  execute: (report, { runId }) => {
    const lines = [
      `# Incident: ${report.title}`,
      '',
      `Status: ${report.status}. Run: ${runId}.`,
      '',
      `**Impact.** ${report.impact}`,
      '',
      `**Root cause.** ${report.root_cause}`,
      '',
      '## Timeline',
      '',
      '| time | what | evidence |',
      '| --- | --- | --- |',
      ...report.timeline.map(
        (e) =>
          `| ${e.time ?? ''} | ${e.event} | ${e.evidence ? `\`${e.evidence.replaceAll('|', '\\|')}\`` : ''} |`,
      ),
    ];
    if (report.follow_ups.length)
      lines.push('', '## Follow-ups', '', ...report.follow_ups.map((f) => `- ${f}`));
    const text = `${lines.join('\n')}\n`;
    mkdirSync(reportsDir, { recursive: true });
    const file = join(reportsDir, `incident-${runId}.md`);
    writeFileSync(file, text);
    return `Wrote ${file}\n\n${text}`;
  },
});
