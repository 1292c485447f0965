// Batch transcription over HTTP: `POST {base}/audio/transcriptions`, multipart, as OpenAI,
// Mistral (Voxtral) and OpenAI-compatible servers (vLLM, whisper.cpp's server) take it.
// The wire format is in docs/voice.md.

import { AgentdError } from '../core/errors.ts';
import { detectFormat, mediaTypes } from './audio.ts';
import {
  defaultVoiceRetry,
  httpFailure,
  VoiceProviderError,
  type VoiceRetryPolicy,
  withRetry,
} from './provider-error.ts';
import type { BatchTranscriber, Segment, Transcript } from './transcript.ts';

export type HttpDialect = 'openai' | 'mistral' | 'openai-compatible';

export interface HttpTranscriberOptions {
  dialect: HttpDialect;
  model: string;
  baseUrl: string;
  apiKey?: string;
  /** Where the key came from, for error messages (never the key). */
  keyName?: string;
  retry?: VoiceRetryPolicy;
  onRetry?: (message: string, delayMs: number) => void;
}

const providerNames: Record<HttpDialect, string> = {
  openai: 'OpenAI',
  mistral: 'Mistral',
  'openai-compatible': 'the transcription server',
};

/** gpt-4o transcription models answer `json` only; whisper-1 and compatible servers take verbose_json. */
function wantsVerbose(options: HttpTranscriberOptions): boolean {
  return (
    options.dialect === 'openai-compatible' ||
    (options.dialect === 'openai' && options.model.startsWith('whisper'))
  );
}

export function httpTranscriber(options: HttpTranscriberOptions): BatchTranscriber {
  const provider = options.dialect;
  const name = providerNames[options.dialect];
  const url = `${options.baseUrl.replace(/\/+$/, '')}/audio/transcriptions`;
  return {
    provider,
    model: options.model,
    async transcribe(audio, { language, signal }) {
      const format = detectFormat(audio.bytes);
      if (!format) {
        throw new AgentdError(
          'audio_invalid',
          `${audio.name}: not audio agentd can send (WAV, FLAC, MP3, Ogg/Opus, WebM, M4A)`,
        );
      }
      const attempt = async (): Promise<Transcript> => {
        const form = new FormData();
        const file = new Blob([audio.bytes as Uint8Array<ArrayBuffer>], {
          type: mediaTypes[format],
        });
        form.append('file', file, `audio.${format}`);
        form.append('model', options.model);
        if (language) form.append('language', language);
        if (options.dialect === 'mistral') {
          form.append('timestamp_granularities', 'segment');
        } else if (wantsVerbose(options)) {
          form.append('response_format', 'verbose_json');
          form.append('timestamp_granularities[]', 'segment');
        } else {
          form.append('response_format', 'json');
        }
        let response: Response;
        try {
          response = await fetch(url, {
            method: 'POST',
            body: form,
            headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
            ...(signal ? { signal } : {}),
          });
        } catch (error) {
          if (signal?.aborted) throw error;
          throw new VoiceProviderError(
            `${name} at ${options.baseUrl} is unreachable: ${(error as Error).cause ? String(((error as Error).cause as Error).message ?? (error as Error).cause) : (error as Error).message}`,
            { retryable: true, cause: error },
          );
        }
        const body = await response.text();
        if (!response.ok) {
          throw httpFailure(
            name,
            'transcription',
            response.status,
            body,
            response.headers,
            options.keyName,
          );
        }
        return parseTranscription(body, provider, options.model, name);
      };
      return withRetry(attempt, options.retry ?? defaultVoiceRetry, signal, (error, delay) =>
        options.onRetry?.(error.message, delay),
      );
    },
  };
}

interface WireSegment {
  text?: unknown;
  start?: unknown;
  end?: unknown;
  score?: unknown;
  avg_logprob?: unknown;
  speaker_id?: unknown;
}

/** The languages OpenAI's verbose_json names in full, as ISO 639-1 codes (the common ones). */
const languageCodes: Record<string, string> = {
  english: 'en',
  french: 'fr',
  german: 'de',
  spanish: 'es',
  italian: 'it',
  portuguese: 'pt',
  dutch: 'nl',
  russian: 'ru',
  chinese: 'zh',
  japanese: 'ja',
  korean: 'ko',
  arabic: 'ar',
  hindi: 'hi',
};

export function parseTranscription(
  body: string,
  provider: string,
  model: string,
  name: string,
): Transcript {
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    throw new VoiceProviderError(
      `${name} answered with something that is not JSON: ${body.slice(0, 120)}`,
      {
        retryable: false,
      },
    );
  }
  if (typeof json.text !== 'string') {
    throw new VoiceProviderError(`${name} answered without a transcript ("text" is missing)`, {
      retryable: false,
    });
  }
  const segments: Segment[] = [];
  for (const raw of Array.isArray(json.segments) ? (json.segments as WireSegment[]) : []) {
    if (
      typeof raw.text !== 'string' ||
      typeof raw.start !== 'number' ||
      typeof raw.end !== 'number'
    )
      continue;
    const segment: Segment = { text: raw.text.trim(), start: raw.start, end: raw.end };
    if (typeof raw.score === 'number') segment.confidence = raw.score;
    else if (typeof raw.avg_logprob === 'number') segment.confidence = Math.exp(raw.avg_logprob);
    if (typeof raw.speaker_id === 'string') segment.speaker = raw.speaker_id;
    segments.push(segment);
  }
  const language =
    typeof json.language === 'string'
      ? (languageCodes[json.language.toLowerCase()] ?? json.language)
      : undefined;
  const usage = json.usage as { prompt_audio_seconds?: unknown; seconds?: unknown } | undefined;
  const duration =
    typeof json.duration === 'number'
      ? json.duration
      : typeof usage?.prompt_audio_seconds === 'number'
        ? usage.prompt_audio_seconds
        : typeof usage?.seconds === 'number'
          ? usage.seconds
          : segments.at(-1)?.end;
  return {
    text: json.text.trim(),
    ...(language ? { language } : {}),
    ...(duration !== undefined ? { duration } : {}),
    segments,
    provider,
    model: typeof json.model === 'string' && provider === 'mistral' ? json.model : model,
  };
}
