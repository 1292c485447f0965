import { basename } from 'node:path';
import type { CatalogEntry, Distillation } from '../catalog.ts';
import { nodeLlamaCpp } from './llama-runtime.ts';

/** What a GGUF file says of itself, read from its header (no weights loaded). */
export interface GgufInfo {
  path: string;
  name: string;
  architecture: string;
  /** Weights, counted from the tensors' shapes. */
  parameters: number;
  /** The file type the header names (e.g. MOSTLY_Q4_K_M), else the tensors' dominant type. */
  quantization: string;
  /** Tokens the model was trained for. */
  contextLength: number | undefined;
  license: string | undefined;
  /** The Jinja chat template, when the file carries one. */
  chatTemplate: string | undefined;
  bytes: number;
}

export async function readGgufInfo(path: string): Promise<GgufInfo> {
  const { readGgufFileInfo, GgufInsights, GgufFileType, GgmlType } = await nodeLlamaCpp();
  const file = await readGgufFileInfo(path, { logWarnings: false });
  const insights = await GgufInsights.from(file);
  const general = file.metadata.general ?? {};
  const fileType = general.file_type;
  const dominant = insights.dominantTensorType;
  const quantization =
    fileType !== undefined && GgufFileType[fileType]
      ? GgufFileType[fileType].replace(/^MOSTLY_/, '')
      : dominant !== undefined
        ? (GgmlType[dominant] ?? 'unknown')
        : 'unknown';
  const tokenizer = file.metadata.tokenizer as { chat_template?: unknown } | undefined;
  return {
    path,
    name: general.name ?? basename(path, '.gguf'),
    architecture: general.architecture ?? 'unknown',
    parameters: insights.totalParameters,
    quantization,
    contextLength: insights.trainContextSize,
    license: general.license,
    chatTemplate:
      typeof tokenizer?.chat_template === 'string' ? tokenizer.chat_template : undefined,
    bytes: insights.modelSize,
  };
}

/** `7.6B`, `135M`, `128K`: a parameter count the way model cards write it. */
export function formatParameters(n: number): string {
  const units: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, unit] of units) {
    if (n >= size) return `${Number((n / size).toFixed(n / size >= 100 ? 0 : 1))}${unit}`;
  }
  return String(n);
}

const openLicenses = /^(apache-2\.0|mit|bsd-[23]-clause|cc-by-4\.0|cc0-1\.0|openrail)$/i;

/**
 * The catalog entry of a loaded GGUF: its context from the file (as loaded), no price (it runs
 * on this machine: cost 0), distillation from the license the header declares.
 */
export function localCatalogEntry(
  ref: string,
  info: Pick<GgufInfo, 'name' | 'license'>,
  contextWindow: number,
): CatalogEntry {
  const license = info.license;
  const distillation: Distillation =
    license && openLicenses.test(license) ? 'allowed' : 'restricted';
  return {
    provider: 'local',
    id: ref,
    displayName: info.name,
    contextWindow,
    maxOutputTokens: contextWindow,
    pricing: { input: 0, output: 0, cachedInput: 0, cacheWrite: 0 },
    distillation,
    distillationNote: license
      ? `The GGUF declares general.license ${license}; check its terms before training on outputs.`
      : 'The GGUF declares no license (general.license); check the model card before training on outputs.',
    source: 'GGUF metadata',
  };
}
