// Transcription models agentd knows, with their price per minute of audio (USD, standard
// rates as the providers publish them; re-check the sources before billing).

export type TranscriptionProvider = 'openai' | 'mistral' | 'openai-compatible' | 'offline';

export interface TranscriptionEntry {
  provider: TranscriptionProvider;
  id: string;
  /** batch: whole files over HTTP; realtime: streamed over a WebSocket. */
  mode: 'batch' | 'realtime';
  usdPerMinute: number;
  source: string;
}

const MISTRAL_PRICING = 'https://mistral.ai/news/voxtral-transcribe-2 https://mistral.ai/pricing';
const OPENAI_PRICING = 'https://developers.openai.com/api/docs/pricing';

export const transcriptionCatalog: readonly TranscriptionEntry[] = [
  {
    provider: 'mistral',
    id: 'voxtral-mini-latest',
    mode: 'batch',
    usdPerMinute: 0.003,
    source: MISTRAL_PRICING,
  },
  {
    provider: 'mistral',
    id: 'voxtral-mini-2602',
    mode: 'batch',
    usdPerMinute: 0.003,
    source: MISTRAL_PRICING,
  },
  {
    provider: 'mistral',
    id: 'voxtral-mini-transcribe-realtime-2602',
    mode: 'realtime',
    usdPerMinute: 0.006,
    source: MISTRAL_PRICING,
  },
  {
    provider: 'openai',
    id: 'gpt-4o-transcribe',
    mode: 'batch',
    usdPerMinute: 0.006,
    source: OPENAI_PRICING,
  },
  {
    provider: 'openai',
    id: 'gpt-4o-mini-transcribe',
    mode: 'batch',
    usdPerMinute: 0.003,
    source: OPENAI_PRICING,
  },
  {
    provider: 'openai',
    id: 'whisper-1',
    mode: 'batch',
    usdPerMinute: 0.006,
    source: OPENAI_PRICING,
  },
  {
    provider: 'openai',
    id: 'gpt-4o-transcribe',
    mode: 'realtime',
    usdPerMinute: 0.006,
    source: OPENAI_PRICING,
  },
  {
    provider: 'openai',
    id: 'gpt-4o-mini-transcribe',
    mode: 'realtime',
    usdPerMinute: 0.003,
    source: OPENAI_PRICING,
  },
  {
    provider: 'offline',
    id: 'pocketsphinx-en-us',
    mode: 'batch',
    usdPerMinute: 0,
    source: 'runs on this machine',
  },
  {
    provider: 'offline',
    id: 'pocketsphinx-en-us',
    mode: 'realtime',
    usdPerMinute: 0,
    source: 'runs on this machine',
  },
];

export const defaultTranscriptionModels: Record<
  Exclude<TranscriptionProvider, 'openai-compatible'>,
  Record<'batch' | 'realtime', string>
> = {
  mistral: { batch: 'voxtral-mini-latest', realtime: 'voxtral-mini-transcribe-realtime-2602' },
  openai: { batch: 'gpt-4o-transcribe', realtime: 'gpt-4o-transcribe' },
  offline: { batch: 'pocketsphinx-en-us', realtime: 'pocketsphinx-en-us' },
};

export function findTranscriptionModel(
  provider: string,
  id: string,
  mode: 'batch' | 'realtime',
): TranscriptionEntry | undefined {
  return transcriptionCatalog.find(
    (e) => e.provider === provider && e.id === id && e.mode === mode,
  );
}

/** The price of this much audio, or null when the model has no price in the catalog. */
export function transcriptionCost(
  provider: string,
  model: string,
  mode: 'batch' | 'realtime',
  audioMs: number,
): number | null {
  const entry = findTranscriptionModel(provider, model, mode);
  if (!entry) return null;
  return (entry.usdPerMinute * audioMs) / 60_000;
}
