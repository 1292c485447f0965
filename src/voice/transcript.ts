// What transcription gives, whatever the provider: segments with times, the language and
// a confidence where the provider reports one; and the events a stream of speech yields.

export interface Segment {
  text: string;
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
  /** 0..1 where the provider gives one (a score, a posterior, exp of a mean log-probability). */
  confidence?: number;
  speaker?: string;
}

export interface Transcript {
  text: string;
  language?: string;
  /** Seconds of audio, where known. */
  duration?: number;
  segments: Segment[];
  provider: string;
  model: string;
}

/** One utterance a stream of speech gave: its final text, with where it was in the audio. */
export interface Utterance {
  /** 0 for the stream's first utterance. */
  index: number;
  text: string;
  language?: string;
  segments: Segment[];
  /** Milliseconds from the start of the stream's audio. */
  startMs: number;
  /** Where the provider or the VAD found the end of speech. */
  endMs: number;
}

export type StreamEvent =
  | { type: 'speech-started'; atMs: number }
  | { type: 'speech-stopped'; atMs: number }
  | { type: 'partial'; text: string }
  | { type: 'final'; utterance: Utterance }
  /** The connection dropped and was opened again; audio from `fromMs` is sent again. */
  | { type: 'reconnected'; attempt: number; fromMs: number; reason: string };

/** A transcriber of whole files (batch). */
export interface BatchTranscriber {
  readonly provider: string;
  readonly model: string;
  /** A far less accurate engine than the hosted models (said in output). */
  readonly offline?: boolean;
  transcribe(
    audio: { bytes: Uint8Array; name: string },
    options: { language?: string; signal?: AbortSignal },
  ): Promise<Transcript>;
}

/** A transcriber of live speech: PCM16 mono chunks at `sampleRate` in, utterances out. */
export interface StreamingTranscriber {
  readonly provider: string;
  readonly model: string;
  readonly offline?: boolean;
  readonly sampleRate: number;
  stream(
    audio: AsyncIterable<Int16Array>,
    options: { language?: string; signal?: AbortSignal },
  ): AsyncIterable<StreamEvent>;
}

export const offlineAccuracyNotice =
  'offline transcription with pocketsphinx is far less accurate than the hosted models (Voxtral, OpenAI): expect misheard words; set MISTRAL_API_KEY or OPENAI_API_KEY and pass --transcriber mistral or openai for real accuracy';

function clock(seconds: number, separator: ',' | '.'): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms % 1000, 3)}`;
}

/** The segments as SubRip subtitles. */
export function toSrt(transcript: Transcript): string {
  return cues(transcript)
    .map((s, i) => `${i + 1}\n${clock(s.start, ',')} --> ${clock(s.end, ',')}\n${s.text.trim()}\n`)
    .join('\n');
}

/** The segments as WebVTT subtitles. */
export function toVtt(transcript: Transcript): string {
  const body = cues(transcript)
    .map((s) => `${clock(s.start, '.')} --> ${clock(s.end, '.')}\n${s.text.trim()}\n`)
    .join('\n');
  return `WEBVTT\n\n${body}`;
}

/** Subtitles need times: a transcript without segments is one cue over its duration. */
function cues(transcript: Transcript): Segment[] {
  const segments = transcript.segments.filter((s) => s.text.trim());
  if (segments.length > 0) return segments;
  if (!transcript.text.trim()) return [];
  return [{ text: transcript.text, start: 0, end: transcript.duration ?? 0 }];
}

/** Words, lower case, without punctuation: what word error rate compares. */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}'\s]/gu, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

/** Word error rate: (substitutions + deletions + insertions) / words in the reference. */
export function wordErrorRate(reference: string, hypothesis: string): number {
  const ref = words(reference);
  const hyp = words(hypothesis);
  if (ref.length === 0) return hyp.length === 0 ? 0 : 1;
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const row = [i];
    for (let j = 1; j <= hyp.length; j++) {
      const cost = ref[i - 1] === hyp[j - 1] ? 0 : 1;
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost));
    }
    previous = row;
  }
  return previous[hyp.length]! / ref.length;
}
