import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunEvent } from '../../src/core/events.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { wavOf } from '../../src/voice/audio.ts';
import { agentd } from '../support/cli.ts';
import { FakeVoiceServer, toneUtterances } from '../support/fake-voice.ts';
import { tempDir } from '../support/temp-dir.ts';

// These tests start agentd and pocketsphinx processes (each a few seconds of CPU): the hang
// guard is 2 minutes, for a machine shared with other work.
vi.setConfig({ testTimeout: 120_000 });

const hasEngine = !spawnSync('pocketsphinx_continuous', ['-h'], { stdio: 'ignore' }).error;
if (!hasEngine)
  console.warn(
    'test/voice/voice-cli.test.ts: skipped the offline voice session: pocketsphinx not installed (apt-get install pocketsphinx pocketsphinx-en-us)',
  );

let fake: FakeVoiceServer;
beforeAll(async () => {
  fake = await FakeVoiceServer.start();
});
afterAll(async () => {
  await fake.close();
});

async function runEvents(home: string): Promise<RunEvent[]> {
  const store = new SqliteStore({ path: join(home, 'agentd.db') });
  try {
    const [run] = await store.listRuns({ limit: 1 });
    return run ? await store.readEvents(run.id) : [];
  } finally {
    await store.close();
  }
}

/** An agent that repeats each turn back (a scripted replay: no model needed). */
function echoAgent(dir: string): string {
  writeFileSync(
    join(dir, 'script.yaml'),
    'turns:\n  - text: "You said: {{message}}"\n    repeat: 20\n',
  );
  const spec = join(dir, 'agent.yaml');
  writeFileSync(
    spec,
    'name: echo\nmodel: scripted/echo\nscript: script.yaml\ninstructions: Repeat what you hear.\n',
  );
  return spec;
}

function toneFile(dir: string, rate: number, utterances: number): string {
  const path = join(dir, 'speech.wav');
  writeFileSync(path, wavOf({ sampleRate: rate, samples: toneUtterances(rate, utterances) }));
  return path;
}

describe.skipIf(!hasEngine)('agentd voice, offline (skipped without pocketsphinx)', () => {
  it('answers examples/voice/question.wav with the unit converter, and logs the transcript, not the audio', async () => {
    const home = tempDir();
    const result = await agentd(
      [
        'voice',
        'examples/unit-converter/agent.yaml',
        '--input',
        'examples/voice/question.wav',
        '--no-pace',
      ],
      { home },
    );
    expect(result.stderr).toContain(
      'offline transcription with pocketsphinx is far less accurate than the hosted models',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('26.2188 mi = 42.1950684672 km');
    expect(result.stderr).toMatch(
      /🎙 ".*marathon.*" \(offline\/pocketsphinx-en-us, final .* after end of speech\)/,
    );
    expect(result.stderr).toMatch(
      /⏱ utterance #0: transcript .* after end of speech · model request \+.* · first token .* after end of speech/,
    );
    const events = await runEvents(home);
    const transcript = events.find((e) => e.type === 'voice.transcript');
    expect(transcript?.data).toMatchObject({
      utterance: 0,
      provider: 'offline',
      model: 'pocketsphinx-en-us',
      language: 'en',
      costUsd: 0,
    });
    if (transcript?.type !== 'voice.transcript') throw new Error('no transcript');
    expect(transcript.data.text).toContain('marathon');
    expect(transcript.data.audio).toBeUndefined();
    expect(existsSync(join(home, 'audio'))).toBe(false);
    expect(events.map((e) => e.type).slice(0, 3)).toEqual([
      'run.started',
      'voice.transcript',
      'model.request',
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'completed' } });
  });
});

describe('agentd voice with a hosted realtime model (fake servers)', () => {
  it('--transcriber mistral: every utterance a turn of one run, with --keep-audio content-addressed', async () => {
    const home = tempDir();
    const dir = tempDir();
    fake.setRealtime({ texts: ['what time is it', 'and the date'], key: 'sk-mistral-cli' });
    const result = await agentd(
      [
        'voice',
        echoAgent(dir),
        '--input',
        toneFile(dir, 16000, 2),
        '--transcriber',
        'mistral',
        '--keep-audio',
        '--no-barge-in',
        '--no-pace',
      ],
      { home, env: { MISTRAL_API_KEY: 'sk-mistral-cli', MISTRAL_BASE_URL: fake.baseUrl } },
    );
    expect(result.stderr).not.toContain('pocketsphinx');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('You said: what time is it');
    expect(result.stdout).toContain('You said: and the date');
    const events = await runEvents(home);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'run.started')).toHaveLength(1);
    expect(types).toContain('user.message');
    const transcripts = events.flatMap((e) => (e.type === 'voice.transcript' ? [e.data] : []));
    expect(transcripts.map((t) => [t.utterance, t.text, t.provider, t.model])).toEqual([
      [0, 'what time is it', 'mistral', 'voxtral-mini-transcribe-realtime-2602'],
      [1, 'and the date', 'mistral', 'voxtral-mini-transcribe-realtime-2602'],
    ]);
    // Priced per minute from the catalog, and part of the run's cost.
    expect(transcripts[0]!.costUsd).toBeGreaterThan(0);
    for (const t of transcripts) {
      const file = join(home, 'audio', `${t.audio!.digest.replace('sha256:', '')}.wav`);
      expect(readFileSync(file).length).toBe(t.audio!.bytes);
    }
    // The log never holds the audio itself.
    expect(JSON.stringify(events)).not.toMatch(/"audio":"[A-Za-z0-9+/]{100,}/);
  });

  it('a voice session killed and started again with --run continues the run from its log', async () => {
    const home = tempDir();
    const dir = tempDir();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The second utterance is held back until the first process is gone (it takes text 1 with
    // it); the second process hears it again, as text 2.
    fake.setRealtime({
      texts: ['first question', 'second question', 'second question'],
      key: 'sk-openai-cli',
      gate: (i) => (i === 1 ? held : Promise.resolve()),
    });
    const spec = echoAgent(dir);
    const input = toneFile(dir, 24000, 2);
    const env = { OPENAI_API_KEY: 'sk-openai-cli', OPENAI_BASE_URL: fake.baseUrl };
    const first = await agentd(
      ['voice', spec, '--input', input, '--transcriber', 'openai', '--no-pace'],
      {
        home,
        env,
        onStdout: (text, kill) => {
          if (text.includes('You said: first question')) kill('SIGKILL');
        },
      },
    );
    expect(first.code).toBeNull();
    const runId = /run (run_\w+)/.exec(first.stderr)?.[1];
    expect(runId).toBeDefined();
    release();
    const second = await agentd(
      ['voice', spec, '--input', input, '--transcriber', 'openai', '--no-pace', '--run', runId!],
      { home, env },
    );
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('You said: second question');
    // Killed mid-answer, the first turn is answered again from the log before the next one.
    const events = await runEvents(home);
    const transcripts = events.flatMap((e) => (e.type === 'voice.transcript' ? [e.data] : []));
    expect(transcripts.map((t) => [t.utterance, t.text])).toEqual([
      [0, 'first question'],
      [1, 'second question'],
    ]);
    // The second session started after the first utterance's audio, where the log left it.
    expect(transcripts[1]!.startMs).toBeGreaterThan(transcripts[0]!.endMs);
    const outputs = events.flatMap((e) => (e.type === 'run.finished' ? [e.data.output] : []));
    expect(outputs.at(-1)).toBe('[scripted] You said: second question');
  });

  it('one line for a transcriber that does not exist or a key that is not set', async () => {
    const home = tempDir();
    const dir = tempDir();
    const spec = echoAgent(dir);
    const input = toneFile(dir, 16000, 1);
    const bad = await agentd(['voice', spec, '--input', input, '--transcriber', 'siri'], { home });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe(
      'agentd: --transcriber: "siri" is not a transcriber: use offline, openai[/model], mistral[/model] or openai-compatible/<model> (with --base-url)',
    );
    const noKey = await agentd(['voice', spec, '--input', input, '--transcriber', 'mistral'], {
      home,
    });
    expect(noKey.code).not.toBe(0);
    expect(noKey.stderr).toMatch(
      /^agentd: MISTRAL_API_KEY is not set: export MISTRAL_API_KEY=\.\.\. .*or use --transcriber offline\n$/,
    );
    const missing = await agentd(
      ['voice', spec, '--input', join(dir, 'nope.wav'), '--transcriber', 'mistral'],
      {
        home,
        env: { MISTRAL_API_KEY: 'k', MISTRAL_BASE_URL: fake.baseUrl },
      },
    );
    expect(missing.stderr.trim()).toBe(
      `agentd: --input: ${join(dir, 'nope.wav')} does not exist or cannot be read`,
    );
    writeFileSync(join(dir, 'notes.wav'), 'these are notes, not audio');
    const notAudio = await agentd(
      ['voice', spec, '--input', join(dir, 'notes.wav'), '--transcriber', 'mistral'],
      {
        home,
        env: { MISTRAL_API_KEY: 'k', MISTRAL_BASE_URL: fake.baseUrl },
      },
    );
    expect(notAudio.stderr.trim()).toMatch(
      /^agentd: .*notes\.wav: not audio agentd can read \(WAV, FLAC, MP3, Ogg\/Opus, WebM, M4A\)/,
    );
    expect(notAudio.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('agentd transcribe', () => {
  const mistralReply = {
    kind: 'ok' as const,
    body: {
      model: 'voxtral-mini-2602',
      text: 'Hello there. How are you?',
      language: 'en',
      segments: [
        { type: 'transcription_segment', text: ' Hello there.', start: 0.2, end: 1.1, score: 0.9 },
        { type: 'transcription_segment', text: ' How are you?', start: 1.3, end: 2.5 },
      ],
      usage: { prompt_audio_seconds: 60 },
    },
  };

  it('text, JSON with segments and cost, SRT and VTT', async () => {
    const home = tempDir();
    const dir = tempDir();
    const input = toneFile(dir, 16000, 1);
    const env = { MISTRAL_API_KEY: 'sk-t', MISTRAL_BASE_URL: fake.baseUrl };
    fake.enqueueBatch(mistralReply, mistralReply, mistralReply, mistralReply);
    const text = await agentd(['transcribe', input, '-t', 'mistral'], { home, env });
    expect(text.code).toBe(0);
    expect(text.stdout).toBe('Hello there. How are you?\n');
    expect(text.stderr).toContain(
      'mistral/voxtral-mini-2602 · 60.0 s of audio · en · 2 segments · $0.003',
    );
    const json = JSON.parse(
      (await agentd(['transcribe', input, '-t', 'mistral', '--json'], { home, env })).stdout,
    );
    expect(json).toMatchObject({
      provider: 'mistral',
      language: 'en',
      costUsd: 0.003,
      segments: [{ text: 'Hello there.', confidence: 0.9 }, {}],
    });
    const srt = await agentd(['transcribe', input, '-t', 'mistral', '--format', 'srt'], {
      home,
      env,
    });
    expect(srt.stdout).toBe(
      '1\n00:00:00,200 --> 00:00:01,100\nHello there.\n\n2\n00:00:01,300 --> 00:00:02,500\nHow are you?\n',
    );
    const vtt = await agentd(['transcribe', input, '-t', 'mistral', '--format', 'vtt'], {
      home,
      env,
    });
    expect(vtt.stdout.startsWith('WEBVTT\n\n00:00:00.200 --> 00:00:01.100\nHello there.\n')).toBe(
      true,
    );
  });

  it('a refused key and bad audio are one line each, with a non-zero exit', async () => {
    const home = tempDir();
    const dir = tempDir();
    const input = toneFile(dir, 16000, 1);
    const env = { OPENAI_API_KEY: 'sk-wrong', OPENAI_BASE_URL: fake.baseUrl };
    fake.enqueueBatch({
      kind: 'error',
      status: 401,
      body: { error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } },
    });
    const refused = await agentd(['transcribe', input, '-t', 'openai'], { home, env });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim()).toBe(
      'agentd: OpenAI transcription failed (HTTP 401): Incorrect API key provided: check OPENAI_API_KEY',
    );
    writeFileSync(join(dir, 'empty.wav'), '');
    const empty = await agentd(['transcribe', join(dir, 'empty.wav'), '-t', 'openai'], {
      home,
      env,
    });
    expect(empty.stderr.trim()).toBe(
      `agentd: ${join(dir, 'empty.wav')} is empty: there is no audio to transcribe`,
    );
    const format = await agentd(['transcribe', input, '--format', 'docx'], { home, env });
    expect(format.code).not.toBe(0);
    expect(format.stderr).toContain(
      "argument 'docx' is invalid. Allowed choices are text, json, srt, vtt.",
    );
  });
});
