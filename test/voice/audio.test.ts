import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  decodeToPcm,
  detectFormat,
  Resampler,
  readWavHeader,
  resample,
  wavOf,
} from '../../src/voice/audio.ts';
import { type Transcript, toSrt, toVtt, wordErrorRate } from '../../src/voice/transcript.ts';
import { EnergyVad } from '../../src/voice/vad.ts';
import { toneUtterances } from '../support/fake-voice.ts';

const hasSox = !spawnSync('sox', ['--version'], { stdio: 'ignore' }).error;

function stereoWav(rate: number, frames: number): Uint8Array {
  const out = new Uint8Array(44 + frames * 4);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode('RIFF'), 0);
  view.setUint32(4, 36 + frames * 4, true);
  out.set(new TextEncoder().encode('WAVEfmt '), 8);
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 2, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * 4, true);
  view.setUint16(32, 4, true);
  view.setUint16(34, 16, true);
  out.set(new TextEncoder().encode('data'), 36);
  view.setUint32(40, frames * 4, true);
  for (let i = 0; i < frames; i++) {
    view.setInt16(44 + i * 4, 1000, true);
    view.setInt16(46 + i * 4, 3000, true);
  }
  return out;
}

describe('audio', () => {
  it('knows containers by their first bytes', () => {
    expect(detectFormat(wavOf({ sampleRate: 16000, samples: new Int16Array(4) }))).toBe('wav');
    expect(detectFormat(new TextEncoder().encode('fLaC\0\0\0\x22'))).toBe('flac');
    expect(detectFormat(new TextEncoder().encode('OggS\0\x02'))).toBe('ogg');
    expect(detectFormat(new TextEncoder().encode('ID3\x04\0'))).toBe('mp3');
    expect(detectFormat(Uint8Array.from([0xff, 0xfb, 0x90, 0x64]))).toBe('mp3');
    expect(detectFormat(new TextEncoder().encode('just text'))).toBeUndefined();
  });

  it('reads 16-bit WAV, averages channels to mono and resamples', async () => {
    const pcm = await decodeToPcm(stereoWav(48000, 4800), 16000, { name: 'stereo.wav' });
    expect(pcm.sampleRate).toBe(16000);
    expect(Math.abs(pcm.samples.length - 1600)).toBeLessThanOrEqual(1);
    expect(new Set(pcm.samples)).toEqual(new Set([2000]));
  });

  it('resamples a stream chunk by chunk as it does the whole', () => {
    const input = Int16Array.from({ length: 2400 }, (_, i) => Math.round(10000 * Math.sin(i / 7)));
    const whole = resample(input, 24000, 16000);
    const resampler = new Resampler(24000, 16000);
    const parts = [input.subarray(0, 333), input.subarray(333, 1000), input.subarray(1000)].map(
      (c) => resampler.push(c),
    );
    const chunked = Int16Array.from(parts.flatMap((p) => [...p]));
    expect([...chunked]).toEqual([...whole]);
    const up = resample(Int16Array.from([0, 100, 200]), 8000, 16000);
    expect([...up]).toEqual([0, 50, 100, 150]);
  });

  it('a cut-off WAV, text posing as audio, and a format without a converter are one line each', async () => {
    const wav = wavOf({ sampleRate: 16000, samples: new Int16Array(100) });
    await expect(decodeToPcm(wav.subarray(0, 30), 16000, { name: 'cut.wav' })).rejects.toThrow(
      'cut.wav: the WAV file is cut short (no complete fmt and data chunks)',
    );
    await expect(
      decodeToPcm(new TextEncoder().encode('hello'), 16000, { name: 'a.txt' }),
    ).rejects.toThrow(/^a\.txt: not audio agentd can read/);
    await expect(
      decodeToPcm(new TextEncoder().encode('fLaC\0\0\0\x22'), 16000, {
        name: 'talk.flac',
        env: { AGENTD_AUDIO_CONVERTER: 'none' },
      }),
    ).rejects.toThrow(
      'talk.flac: FLAC needs sox or ffmpeg to decode, and neither is installed: apt-get install sox libsox-fmt-all (or ffmpeg), or give 16-bit PCM WAV',
    );
  });

  it.skipIf(!hasSox)('decodes FLAC with sox (skipped without sox)', async () => {
    const wav = wavOf({ sampleRate: 16000, samples: toneUtterances(16000, 1) });
    const flac = spawnSync('sox', ['-t', 'wav', '-', '-t', 'flac', '-'], { input: wav }).stdout;
    expect(detectFormat(flac)).toBe('flac');
    const pcm = await decodeToPcm(flac, 16000, { name: 'tone.flac' });
    const header = readWavHeader(wav)!;
    expect(pcm.samples.length).toBe(header.dataBytes / 2);
  });

  it('the VAD finds each burst of speech and where it ended', () => {
    const rate = 16000;
    const vad = new EnergyVad({ sampleRate: rate, silenceMs: 400 });
    const samples = toneUtterances(rate, 2, 800, 900);
    const events = [...vad.push(samples), ...vad.flush()];
    expect(events.map((e) => e.type)).toEqual(['start', 'end', 'start', 'end']);
    // Speech is 900-1700 ms and 2600-3400 ms.
    expect(events[1]!.atMs).toBeGreaterThanOrEqual(1700);
    expect(events[1]!.atMs).toBeLessThanOrEqual(1720);
    expect(events[2]!.atMs).toBeGreaterThanOrEqual(2580);
  });
});

describe('transcripts', () => {
  const transcript: Transcript = {
    text: 'Hello there. How are you?',
    segments: [
      { text: 'Hello there.', start: 0.2, end: 1.1 },
      { text: 'How are you?', start: 61.3, end: 3723.004 },
    ],
    provider: 'mistral',
    model: 'voxtral-mini-2602',
  };

  it('as SRT and WebVTT', () => {
    expect(toSrt(transcript)).toBe(
      '1\n00:00:00,200 --> 00:00:01,100\nHello there.\n\n2\n00:01:01,300 --> 01:02:03,004\nHow are you?\n',
    );
    expect(toVtt(transcript)).toBe(
      'WEBVTT\n\n00:00:00.200 --> 00:00:01.100\nHello there.\n\n00:01:01.300 --> 01:02:03.004\nHow are you?\n',
    );
  });

  it('word error rate counts substitutions, deletions and insertions', () => {
    expect(wordErrorRate('what is the weather', 'What is the weather?')).toBe(0);
    expect(wordErrorRate('what is the weather', 'what was weather today')).toBe(0.75);
    expect(wordErrorRate('', '')).toBe(0);
  });
});
