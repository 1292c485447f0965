import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AgentdError, errorMessage } from '../core/errors.ts';
import type { ModelTerms } from './terms.ts';

/** Where the terms read from providers' APIs are kept, under AGENTD_HOME. */
export function providerTermsPath(home: string): string {
  return join(home, 'provider-terms.json');
}

interface ModelList {
  data?: { id?: unknown }[];
}

async function listModels(url: string, key: string | undefined): Promise<string[]> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: key ? { authorization: `Bearer ${key}` } : {},
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new AgentdError(
      'model_request_failed',
      `${url}: ${errorMessage(error)} (check the base URL)`,
    );
  }
  if (!response.ok) {
    throw new AgentdError(
      'model_request_failed',
      `${url}: HTTP ${response.status} (the endpoint lists no models there)`,
    );
  }
  let body: ModelList;
  try {
    body = (await response.json()) as ModelList;
  } catch {
    throw new AgentdError(
      'model_request_failed',
      `${url}: the answer is not JSON (an OpenRouter-style /models list was expected)`,
    );
  }
  if (!Array.isArray(body.data)) {
    throw new AgentdError(
      'model_request_failed',
      `${url}: the answer has no "data" list of models`,
    );
  }
  return body.data.map((m) => m.id).filter((id): id is string => typeof id === 'string');
}

/**
 * Reads which of an OpenRouter-style endpoint's models allow distillation from its own API
 * (`GET <base>/models?distillable=true` and `=false`) and keeps it under AGENTD_HOME as
 * `openai-compatible/<id>` terms, dated today; a model in neither list stays unknown.
 */
export async function refreshProviderTerms(options: {
  baseUrl: string;
  home: string;
  apiKey?: string;
  now?: Date;
}): Promise<{ yes: number; no: number; path: string }> {
  const base = options.baseUrl.replace(/\/+$/, '');
  const today = (options.now ?? new Date()).toISOString().slice(0, 10);
  const allowed = await listModels(`${base}/models?distillable=true`, options.apiKey);
  const refused = await listModels(`${base}/models?distillable=false`, options.apiKey);
  const terms: Record<string, ModelTerms> = {};
  const put = (id: string, distillable: 'yes' | 'no') => {
    const model = `openai-compatible/${id}`;
    terms[model] = {
      model,
      distillable,
      note:
        distillable === 'yes'
          ? "the provider's API lists the model as distillable (its author allows training on its text outputs)"
          : "the provider's API lists the model as not distillable",
      source: `${base}/models?distillable=${distillable === 'yes' ? 'true' : 'false'}`,
      asOf: today,
      origin: 'provider',
    };
  };
  for (const id of refused) put(id, 'no');
  // listed as both (an API changing under us): the refusal stands
  for (const id of allowed) if (!terms[`openai-compatible/${id}`]) put(id, 'yes');
  const path = providerTermsPath(options.home);
  mkdirSync(dirname(path), { recursive: true });
  let kept: Record<string, ModelTerms> = {};
  try {
    kept = JSON.parse(readFileSync(path, 'utf8')) as Record<string, ModelTerms>;
  } catch {
    kept = {};
  }
  // terms from other endpoints stay; this endpoint's are replaced
  for (const [model, t] of Object.entries(kept))
    if (t.source.startsWith(`${base}/models`)) delete kept[model];
  writeFileSync(path, `${JSON.stringify({ ...kept, ...terms }, null, 2)}\n`);
  return {
    yes: Object.values(terms).filter((t) => t.distillable === 'yes').length,
    no: Object.values(terms).filter((t) => t.distillable === 'no').length,
    path,
  };
}

/** The terms kept from providers' APIs (none when never refreshed). */
export function loadProviderTerms(home: string): Map<string, ModelTerms> {
  try {
    const kept = JSON.parse(readFileSync(providerTermsPath(home), 'utf8')) as Record<
      string,
      ModelTerms
    >;
    return new Map(Object.entries(kept));
  } catch {
    return new Map();
  }
}
