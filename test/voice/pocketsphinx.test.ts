import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  PocketsphinxParser,
  pocketsphinxBatch,
  pocketsphinxStreaming,
} from '../../src/voice/pocketsphinx.ts';
import { wordErrorRate, words } from '../../src/voice/transcript.ts';
import { tempDir } from '../support/temp-dir.ts';

// These tests start agentd and pocketsphinx processes (each a few seconds of CPU): the hang
// guard is 2 minutes, for a machine shared with other work.
vi.setConfig({ testTimeout: 120_000 });

const has = (tool: string, arg: string) => !spawnSync(tool, [arg], { stdio: 'ignore' }).error;
const hasEngine = has('pocketsphinx_continuous', '-h');
const canSpeak = has('espeak-ng', '--version') && has('sox', '--version');
const missing = [!hasEngine && 'pocketsphinx', !canSpeak && 'espeak-ng/sox']
  .filter(Boolean)
  .join(', ');
if (missing)
  console.warn(
    `test/voice/pocketsphinx.test.ts: skipped the engine tests: ${missing} not installed (apt-get install pocketsphinx pocketsphinx-en-us espeak-ng sox)`,
  );

/** A sentence spoken by espeak-ng, as 16 kHz mono WAV (sox), with silence around it. */
function spoken(dir: string, sentence: string): Uint8Array {
  const raw = join(dir, 'raw.wav');
  const out = join(dir, 'speech.wav');
  spawnSync('espeak-ng', ['-v', 'en-us+f2', '-s', '130', '-w', raw, sentence]);
  spawnSync('sox', [raw, '-r', '16000', '-c', '1', '-b', '16', out, 'pad', '0.3', '1.0']);
  return readFileSync(out);
}

describe('pocketsphinx output', () => {
  it('an utterance per </s>, with word times, posteriors and alternate pronunciations dropped', () => {
    const parser = new PocketsphinxParser();
    const lines = [
      'what is that',
      '<s> 0.000 0.270 0.999400',
      'what 0.280 0.540 0.6',
      '<sil> 0.550 0.600 0.9',
      'is 0.610 0.720 0.4',
      'that(2) 0.730 0.870 0.2',
      '</s> 0.880 1.000 1.000000',
    ];
    const results = lines.map((line) => parser.line(line)).filter(Boolean);
    expect(results).toEqual([
      {
        index: 0,
        text: 'what is that',
        language: 'en',
        segments: [
          { text: 'what is that', start: 0.28, end: 0.87, confidence: expect.closeTo(0.4, 6) },
        ],
        startMs: 280,
        endMs: 870,
      },
    ]);
  });
});

describe.skipIf(!hasEngine || !canSpeak)(
  'the offline engine (skipped without pocketsphinx, espeak-ng and sox)',
  () => {
    it('transcribes a generated sentence; word error rate measured, asserted loosely', async () => {
      const sentence =
        'how many kilometers is a marathon and what is one hundred degrees fahrenheit in celsius';
      const transcript = await pocketsphinxBatch().transcribe(
        { bytes: spoken(tempDir(), sentence), name: 'speech.wav' },
        {},
      );
      const wer = wordErrorRate(sentence, transcript.text);
      console.info(`pocketsphinx: "${transcript.text}" for "${sentence}": WER ${wer.toFixed(2)}`);
      // espeak-ng's voice is far from the speech pocketsphinx was trained on: 0.60 measured.
      expect(wer).toBeLessThan(0.8);
      expect(words(transcript.text)).toContain('marathon');
      expect(transcript).toMatchObject({
        provider: 'offline',
        model: 'pocketsphinx-en-us',
        language: 'en',
      });
      expect(transcript.segments.length).toBeGreaterThan(0);
      expect(transcript.segments[0]!.confidence).toBeGreaterThan(0);
      expect(transcript.duration).toBeGreaterThan(2);
    });

    it('streams: the utterance comes once its end of speech is found, with its times', async () => {
      const bytes = spoken(tempDir(), 'open the door');
      const samples = new Int16Array(bytes.buffer, bytes.byteOffset + 44, (bytes.length - 44) / 2);
      async function* chunks() {
        for (let i = 0; i < samples.length; i += 1600) yield samples.slice(i, i + 1600);
      }
      const events = [];
      for await (const event of pocketsphinxStreaming().stream(chunks(), {})) events.push(event);
      expect(events.map((e) => e.type)).toEqual(['speech-stopped', 'final']);
      const final = events[1]!;
      if (final.type !== 'final') throw new Error('no final');
      expect(final.utterance.endMs).toBeGreaterThan(final.utterance.startMs);
      expect(final.utterance.endMs).toBeLessThanOrEqual((samples.length / 16000) * 1000);
    });
  },
);

describe('without the engine', () => {
  it('says how to install it', () => {
    expect(() =>
      pocketsphinxStreaming({
        env: { AGENTD_POCKETSPHINX: '/nonexistent/pocketsphinx_continuous' },
      }),
    ).toThrow(
      'offline transcription needs pocketsphinx, and /nonexistent/pocketsphinx_continuous is not installed: apt-get install pocketsphinx pocketsphinx-en-us (or pass --transcriber mistral or openai)',
    );
  });
});
