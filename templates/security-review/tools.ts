import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineTool, z } from 'agentd';

/** Where the reports go: reports/ beside this file (the reviewer changes nothing else). */
const reportsDir = join(import.meta.dirname, 'reports');

const finding = z.object({
  file: z.string().min(1).describe('Path of the file, relative to the repository root'),
  line: z.int().positive().describe('The line the evidence is on (1-based)'),
  severity: z
    .enum(['error', 'warning', 'note'])
    .describe('error: exploitable; warning: likely; note: hardening'),
  cwe: z
    .string()
    .regex(/^CWE-\d+$/, 'write a CWE as CWE-<number>, e.g. CWE-22')
    .describe('The weakness, e.g. CWE-22'),
  title: z.string().min(1).describe('What is wrong, in a few words'),
  evidence: z.string().min(1).describe('The line of code (secret values masked)'),
  fix: z.string().min(1).optional().describe('How to fix it'),
});

export type Finding = z.infer<typeof finding>;

/** The findings as a SARIF 2.1.0 log: one rule per CWE, one result per finding. */
export function sarifLog(findings: readonly Finding[], summary: string): Record<string, unknown> {
  const cwes = [...new Set(findings.map((f) => f.cwe))].sort();
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'agentd security-review',
            informationUri: 'https://cwe.mitre.org/',
            rules: cwes.map((cwe) => {
              const first = findings.find((f) => f.cwe === cwe)!;
              return {
                id: cwe,
                name: cwe.replace('-', ''),
                shortDescription: { text: first.title },
                helpUri: `https://cwe.mitre.org/data/definitions/${cwe.slice(4)}.html`,
                properties: { tags: ['security', `external/cwe/${cwe.toLowerCase()}`] },
              };
            }),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.cwe,
          ruleIndex: cwes.indexOf(f.cwe),
          level: f.severity,
          message: { text: f.fix ? `${f.title}. Fix: ${f.fix}` : f.title },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: f.file.replace(/^\.\//, ''), uriBaseId: 'SRCROOT' },
                region: { startLine: f.line, snippet: { text: f.evidence } },
              },
            },
          ],
        })),
        properties: { summary },
      },
    ],
  };
}

/** The same findings for people. */
export function markdownReport(findings: readonly Finding[], summary: string): string {
  const order = { error: 0, warning: 1, note: 2 };
  const sorted = [...findings].sort((a, b) => order[a.severity] - order[b.severity]);
  const lines = [
    '# Security review',
    '',
    summary,
    '',
    `${findings.length} finding${findings.length === 1 ? '' : 's'}: ${(['error', 'warning', 'note'] as const).map((s) => `${findings.filter((f) => f.severity === s).length} ${s}`).join(', ')}.`,
  ];
  if (sorted.length) {
    lines.push('', '| severity | CWE | where | what |', '| --- | --- | --- | --- |');
    for (const f of sorted)
      lines.push(`| ${f.severity} | ${f.cwe} | ${f.file}:${f.line} | ${f.title} |`);
  }
  for (const f of sorted) {
    lines.push(
      '',
      `## ${f.cwe}: ${f.title} (${f.file}:${f.line}, ${f.severity})`,
      '',
      '```',
      f.evidence,
      '```',
    );
    if (f.fix) lines.push('', `Fix: ${f.fix}`);
  }
  return `${lines.join('\n')}\n`;
}

export const reportFindings = defineTool({
  name: 'report_findings',
  description:
    'Write the review: every confirmed finding, as SARIF 2.1.0 and Markdown files in the agent folder (reports/). Call it once, at the end; an empty list says nothing was found. Returns the Markdown.',
  input: z.object({
    findings: z.array(finding),
    summary: z.string().min(1).describe('One paragraph: what was reviewed and the overall picture'),
  }),
  idempotent: true,
  execute: ({ findings, summary }, { runId }) => {
    mkdirSync(reportsDir, { recursive: true });
    const base = join(reportsDir, `security-review-${runId}`);
    const markdown = markdownReport(findings, summary);
    writeFileSync(`${base}.sarif`, `${JSON.stringify(sarifLog(findings, summary), null, 2)}\n`);
    writeFileSync(`${base}.md`, markdown);
    return `Wrote ${base}.sarif and ${base}.md\n\n${markdown}`;
  },
});
