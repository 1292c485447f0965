// Audio as agentd handles it: the container of a file (WAV, FLAC, MP3, Ogg), 16-bit PCM
// mono at a given rate for streaming and the offline engine, and the conversions between
// them. PCM WAV is read and resampled here; other formats need sox or ffmpeg (Debian).
import { spawn, spawnSync } from 'node:child_process';
import { AgentdError } from '../core/errors.ts';

export type AudioFormat = 'wav' | 'flac' | 'mp3' | 'ogg' | 'webm' | 'm4a';

/** Media types, as multipart uploads name them. */
export const mediaTypes: Record<AudioFormat, string> = {
  wav: 'audio/wav',
  flac: 'audio/flac',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  webm: 'audio/webm',
  m4a: 'audio/mp4',
};

/** The container of encoded audio, from its first bytes; undefined when it is none of them. */
export function detectFormat(bytes: Uint8Array): AudioFormat | undefined {
  const ascii = (start: number, end: number) =>
    String.fromCharCode(...bytes.subarray(start, Math.min(end, bytes.length)));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'wav';
  if (ascii(0, 4) === 'fLaC') return 'flac';
  if (ascii(0, 4) === 'OggS') return 'ogg';
  if (ascii(0, 3) === 'ID3' || (bytes[0] === 0xff && ((bytes[1] ?? 0) & 0xe0) === 0xe0)) {
    return 'mp3';
  }
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) {
    return 'webm';
  }
  if (ascii(4, 8) === 'ftyp') return 'm4a';
  return undefined;
}

/** 16-bit little-endian PCM, mono. */
export interface Pcm {
  sampleRate: number;
  samples: Int16Array;
}

export interface WavHeader {
  /** 1 = PCM, 3 = IEEE float, 0xfffe = extensible. */
  encoding: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  /** Where the sample data starts. */
  dataOffset: number;
  /** Bytes of sample data (clipped to what is there; streams may say 0 or 0xffffffff). */
  dataBytes: number;
}

/** The header of a WAV file, or undefined when the bytes are not (yet) a whole header. */
export function readWavHeader(bytes: Uint8Array): WavHeader | undefined {
  if (bytes.length < 12) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 12;
  let fmt: Omit<WavHeader, 'dataOffset' | 'dataBytes'> | undefined;
  while (offset + 8 <= bytes.length) {
    const id = String.fromCharCode(...bytes.subarray(offset, offset + 4));
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (body + 16 > bytes.length) return undefined;
      let encoding = view.getUint16(body, true);
      // WAVE_FORMAT_EXTENSIBLE carries the real format in its sub-format GUID's first bytes.
      if (encoding === 0xfffe && size >= 40 && body + 26 <= bytes.length) {
        encoding = view.getUint16(body + 24, true);
      }
      fmt = {
        encoding,
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!fmt) return undefined;
      const dataBytes = Math.min(size, bytes.length - body);
      return { ...fmt, dataOffset: body, dataBytes: size === 0 ? bytes.length - body : dataBytes };
    }
    offset = body + size + (size % 2);
  }
  return undefined;
}

/** Whether agentd reads this WAV itself (16-bit integer PCM); others go through a converter. */
export function isPcm16(header: WavHeader): boolean {
  return header.encoding === 1 && header.bitsPerSample === 16 && header.channels >= 1;
}

/** Interleaved 16-bit frames averaged to mono. */
export function downmix(bytes: Uint8Array, channels: number): Int16Array {
  const frames = Math.floor(bytes.length / (2 * channels));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += view.getInt16((i * channels + c) * 2, true);
    out[i] = Math.round(sum / channels);
  }
  return out;
}

/**
 * Resamples a stream of mono PCM chunk by chunk (linear interpolation; state carries across
 * chunks, so chunked and whole input give the same samples).
 */
export class Resampler {
  readonly #step: number;
  #position = 0;
  #previous = 0;
  #started = false;

  constructor(from: number, to: number) {
    this.#step = from / to;
  }

  push(input: Int16Array): Int16Array {
    if (this.#step === 1) return input;
    if (input.length === 0) return input;
    if (!this.#started) {
      this.#started = true;
      this.#previous = input[0]!;
    }
    // Positions are in input samples relative to this chunk's first; -1 is the previous
    // chunk's last sample. A position needs the sample after it, so the last one waits.
    const out: number[] = [];
    while (this.#position < input.length - 1) {
      const base = Math.floor(this.#position);
      const frac = this.#position - base;
      const a = base < 0 ? this.#previous : input[base]!;
      const b = input[base + 1]!;
      out.push(Math.round(a + (b - a) * frac));
      this.#position += this.#step;
    }
    this.#previous = input[input.length - 1]!;
    this.#position -= input.length;
    return Int16Array.from(out);
  }
}

export function resample(samples: Int16Array, from: number, to: number): Int16Array {
  return new Resampler(from, to).push(samples);
}

/** A mono 16-bit WAV file of these samples. */
export function wavOf(pcm: Pcm): Uint8Array {
  const dataBytes = pcm.samples.length * 2;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const write = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
  };
  write(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  write(8, 'WAVE');
  write(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, pcm.sampleRate, true);
  view.setUint32(28, pcm.sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  write(36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < pcm.samples.length; i++) view.setInt16(44 + i * 2, pcm.samples[i]!, true);
  return out;
}

export function pcmBytes(samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, i * 2);
  return out;
}

export function samplesOf(bytes: Uint8Array): Int16Array {
  return downmix(bytes, 1);
}

export function durationMs(pcm: Pcm): number {
  return (pcm.samples.length / pcm.sampleRate) * 1000;
}

/** sox or ffmpeg, whichever this machine has (sox first); undefined when neither. */
export function findConverter(
  env: Readonly<Record<string, string | undefined>> = process.env,
): 'sox' | 'ffmpeg' | undefined {
  const forced = env.AGENTD_AUDIO_CONVERTER;
  if (forced === 'none') return undefined;
  for (const tool of ['sox', 'ffmpeg'] as const) {
    if (forced && forced !== tool) continue;
    const probe = spawnSync(tool, [tool === 'sox' ? '--version' : '-version'], { stdio: 'ignore' });
    if (probe.status === 0) return tool;
  }
  return undefined;
}

/**
 * Any audio file agentd or a converter can read, as 16-bit mono PCM at `rate`. PCM WAV needs
 * no converter; FLAC, MP3, Ogg and other WAV encodings need sox or ffmpeg.
 */
export async function decodeToPcm(
  bytes: Uint8Array,
  rate: number,
  options: { name: string; env?: Readonly<Record<string, string | undefined>> },
): Promise<Pcm> {
  const format = detectFormat(bytes);
  if (!format) {
    throw new AgentdError(
      'audio_invalid',
      `${options.name}: not audio agentd can read (WAV, FLAC, MP3, Ogg/Opus, WebM, M4A): convert it first, e.g. sox in.aiff out.wav`,
    );
  }
  if (format === 'wav') {
    const header = readWavHeader(bytes);
    if (!header) {
      throw new AgentdError(
        'audio_invalid',
        `${options.name}: the WAV file is cut short (no complete fmt and data chunks)`,
      );
    }
    if (isPcm16(header)) {
      const data = bytes.subarray(header.dataOffset, header.dataOffset + header.dataBytes);
      const mono = downmix(data, header.channels);
      return { sampleRate: rate, samples: resample(mono, header.sampleRate, rate) };
    }
  }
  const converter = findConverter(options.env);
  if (!converter) {
    throw new AgentdError(
      'audio_converter_missing',
      `${options.name}: ${format === 'wav' ? 'this WAV encoding (not 16-bit PCM)' : format.toUpperCase()} needs sox or ffmpeg to decode, and neither is installed: apt-get install sox libsox-fmt-all (or ffmpeg), or give 16-bit PCM WAV`,
    );
  }
  const raw = await convert(converter, bytes, format, rate, options.name);
  return { sampleRate: rate, samples: samplesOf(raw) };
}

/** sox names Ogg Opus `opus` (libsox-fmt-opus) and Ogg Vorbis `ogg`. */
function soxType(input: Uint8Array, format: AudioFormat): string {
  if (format !== 'ogg') return format;
  return Buffer.from(input.subarray(0, 200)).includes('OpusHead') ? 'opus' : 'ogg';
}

function convert(
  tool: 'sox' | 'ffmpeg',
  input: Uint8Array,
  format: AudioFormat,
  rate: number,
  name: string,
): Promise<Buffer> {
  const args =
    tool === 'sox'
      ? [
          '-q',
          '-t',
          soxType(input, format),
          '-',
          '-t',
          'raw',
          '-r',
          `${rate}`,
          '-c',
          '1',
          '-b',
          '16',
          '-e',
          'signed-integer',
          '-L',
          '-',
        ]
      : [
          '-hide_banner',
          '-loglevel',
          'error',
          '-i',
          'pipe:0',
          '-f',
          's16le',
          '-ac',
          '1',
          '-ar',
          `${rate}`,
          'pipe:1',
        ];
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      err += text;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else {
        reject(
          new AgentdError(
            'audio_invalid',
            `${name}: ${tool} could not decode it as ${format.toUpperCase()}: ${err.trim().split('\n')[0] || `exit ${code}`}`,
          ),
        );
      }
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}
