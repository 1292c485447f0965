// Where a voice session's audio comes from: a file (decoded, then fed at the pace of speech,
// as a microphone would) or stdin (WAV or raw 16-bit PCM, fed as it arrives). Either way the
// transcriber gets PCM16 mono at its rate, and the session knows when each moment was heard.
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { AgentdError } from '../core/errors.ts';
import { decodeToPcm, downmix, isPcm16, Resampler, readWavHeader } from './audio.ts';

export interface AudioSource {
  chunks: AsyncIterable<Int16Array>;
  /** Wall-clock time at which this point of the audio (ms from where feeding began) was fed. */
  heardAt(audioMs: number): number;
  /** The audio fed between two points (ms from where feeding began), for --keep-audio. */
  slice(startMs: number, endMs: number): Int16Array;
}

/** Audio fed so far, kept to slice utterances out of. */
class Tape {
  readonly #rate: number;
  #chunks: Int16Array[] = [];
  #length = 0;
  constructor(rate: number) {
    this.#rate = rate;
  }
  add(samples: Int16Array): void {
    this.#chunks.push(samples);
    this.#length += samples.length;
  }
  slice(startMs: number, endMs: number): Int16Array {
    const all = new Int16Array(this.#length);
    let at = 0;
    for (const chunk of this.#chunks) {
      all.set(chunk, at);
      at += chunk.length;
    }
    this.#chunks = [all];
    const index = (ms: number) =>
      Math.max(0, Math.min(all.length, Math.round((ms * this.#rate) / 1000)));
    return all.slice(index(startMs), index(endMs));
  }
}

const chunkMs = 100;

/** A file's audio in 100 ms chunks, each fed at its time (`paced`) or all at once. */
export async function fileSource(
  path: string,
  rate: number,
  options: { paced: boolean; skipMs?: number; env?: Readonly<Record<string, string | undefined>> },
): Promise<AudioSource> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch {
    throw new AgentdError('usage', `--input: ${path} does not exist or cannot be read`);
  }
  const pcm = await decodeToPcm(bytes, rate, {
    name: path,
    ...(options.env ? { env: options.env } : {}),
  });
  const step = Math.round((rate * chunkMs) / 1000);
  let startedAt: number | undefined;
  const fed: number[] = [];
  const tape = new Tape(rate);
  const from = Math.round(((options.skipMs ?? 0) * rate) / 1000);
  async function* chunks(): AsyncIterable<Int16Array> {
    startedAt = Date.now();
    for (let offset = from, n = 0; offset < pcm.samples.length; offset += step, n++) {
      if (options.paced) {
        const due = startedAt + n * chunkMs;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      fed.push(Date.now());
      const chunk = pcm.samples.subarray(offset, Math.min(offset + step, pcm.samples.length));
      tape.add(chunk);
      yield chunk;
    }
  }
  return {
    chunks: chunks(),
    heardAt: (audioMs) => {
      const i = Math.floor(audioMs / chunkMs);
      return fed[Math.max(0, Math.min(i, fed.length - 1))] ?? startedAt ?? Date.now();
    },
    slice: (startMs, endMs) => tape.slice(startMs, endMs),
  };
}

/** stdin: a WAV stream (16-bit PCM) or, with `rawRate`, headerless 16-bit mono PCM. */
export function streamSource(
  input: Readable,
  rate: number,
  rawRate: number | undefined,
): AudioSource {
  const fed: Array<{ atMs: number; wall: number }> = [];
  const tape = new Tape(rate);
  let totalMs = 0;
  async function* chunks(): AsyncIterable<Int16Array> {
    let header: { channels: number; sampleRate: number } | undefined = rawRate
      ? { channels: 1, sampleRate: rawRate }
      : undefined;
    let pending = Buffer.alloc(0);
    let resampler: Resampler | undefined;
    for await (const data of input as AsyncIterable<Buffer>) {
      pending = Buffer.concat([pending, data]);
      if (!header) {
        if (pending.length < 12) continue;
        if (pending.subarray(0, 4).toString('latin1') !== 'RIFF') {
          throw new AgentdError(
            'audio_invalid',
            '--input -: stdin is not a WAV stream: send 16-bit PCM WAV, or raw 16-bit mono PCM with --pcm-rate <Hz>',
          );
        }
        const wav = readWavHeader(pending);
        if (!wav) continue;
        if (!isPcm16(wav)) {
          throw new AgentdError(
            'audio_invalid',
            '--input -: the WAV stream is not 16-bit PCM: convert it first (sox in.wav -b 16 -e signed-integer -t wav -)',
          );
        }
        header = { channels: wav.channels, sampleRate: wav.sampleRate };
        pending = pending.subarray(wav.dataOffset);
      }
      resampler ??= new Resampler(header.sampleRate, rate);
      const frame = 2 * header.channels;
      const usable = pending.length - (pending.length % frame);
      if (usable === 0) continue;
      const samples = resampler.push(downmix(pending.subarray(0, usable), header.channels));
      pending = pending.subarray(usable);
      fed.push({ atMs: totalMs, wall: Date.now() });
      totalMs += (samples.length * 1000) / rate;
      tape.add(samples);
      yield samples;
    }
  }
  return {
    chunks: chunks(),
    heardAt: (audioMs) => {
      let wall = fed[0]?.wall ?? Date.now();
      for (const f of fed) {
        if (f.atMs > audioMs) break;
        wall = f.wall;
      }
      return wall;
    },
    slice: (startMs, endMs) => tape.slice(startMs, endMs),
  };
}
