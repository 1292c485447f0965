import { parseArgs } from 'node:util';
import { type FrameworkName, frameworkNames, isFrameworkName } from './frameworks/catalog.ts';

export interface BenchArgs {
  quick: boolean;
  suites: string[];
  frameworks: FrameworkName[] | undefined;
  /** Where results go; the full plan writes to bench/results, --quick to bench/tmp/results. */
  out: string | undefined;
  /** Re-render the report and chart of an earlier results file instead of measuring. */
  from: string | undefined;
  help: boolean;
}

export const usage = `npm run bench [-- options]

  --quick                 few repetitions, for development (results go to bench/tmp/results)
  --suite <name>          a suite to run (repeatable or comma-separated); default: all
  --frameworks <a,b>      frameworks to run (${frameworkNames.filter((n) => n !== 'raw').join(', ')}); the raw baseline always runs
  --out <dir>             where to write <date>.json, .md and .svg
  --from <results.json>   re-render the report and chart of an earlier run (no measuring)
  --help
`;

export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      suite: { type: 'string', multiple: true },
      frameworks: { type: 'string' },
      out: { type: 'string' },
      from: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const suites = (values.suite ?? ['all']).flatMap((s) => s.split(',')).filter(Boolean);
  let chosen: FrameworkName[] | undefined;
  if (values.frameworks) {
    chosen = [];
    for (const name of values.frameworks.split(',').filter(Boolean)) {
      if (!isFrameworkName(name)) {
        throw new Error(
          `--frameworks: unknown framework "${name}" (known: ${frameworkNames.join(', ')})`,
        );
      }
      chosen.push(name);
    }
  }
  return {
    quick: values.quick ?? false,
    suites,
    frameworks: chosen,
    out: values.out,
    from: values.from,
    help: values.help ?? false,
  };
}
