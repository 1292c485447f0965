import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wavOf } from '../../src/voice/audio.ts';
import { httpTranscriber } from '../../src/voice/http-transcription.ts';
import { FakeVoiceServer, toneUtterances } from '../support/fake-voice.ts';

let fake: FakeVoiceServer;
beforeAll(async () => {
  fake = await FakeVoiceServer.start();
});
afterAll(async () => {
  await fake.close();
});

const wav = wavOf({ sampleRate: 16000, samples: toneUtterances(16000, 1) });
const audio = { bytes: wav, name: 'speech.wav' };
const fastRetry = { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 5_000 };

describe('batch transcription over HTTP', () => {
  it('Mistral: multipart with the model and segment timestamps; segments with scores', async () => {
    fake.enqueueBatch({
      kind: 'ok',
      body: {
        model: 'voxtral-mini-2602',
        text: 'Hello there. How are you?',
        language: 'en',
        segments: [
          {
            type: 'transcription_segment',
            text: ' Hello there.',
            start: 0.2,
            end: 1.1,
            score: 0.91,
          },
          { type: 'transcription_segment', text: ' How are you?', start: 1.3, end: 2.0 },
        ],
        usage: {
          prompt_audio_seconds: 3,
          prompt_tokens: 40,
          completion_tokens: 9,
          total_tokens: 49,
        },
      },
    });
    const transcriber = httpTranscriber({
      dialect: 'mistral',
      model: 'voxtral-mini-latest',
      baseUrl: fake.baseUrl,
      apiKey: 'sk-m',
    });
    const transcript = await transcriber.transcribe(audio, { language: 'en' });
    expect(transcript).toEqual({
      text: 'Hello there. How are you?',
      language: 'en',
      duration: 3,
      segments: [
        { text: 'Hello there.', start: 0.2, end: 1.1, confidence: 0.91 },
        { text: 'How are you?', start: 1.3, end: 2.0 },
      ],
      provider: 'mistral',
      model: 'voxtral-mini-2602',
    });
    const request = fake.batchRequests.at(-1)!;
    expect(request.path).toBe('/v1/audio/transcriptions');
    expect(request.authorization).toBe('Bearer sk-m');
    expect(request.fields).toEqual({
      model: 'voxtral-mini-latest',
      language: 'en',
      timestamp_granularities: 'segment',
    });
    expect(request.fileBytes).toBe(wav.length);
    expect(request.fileType).toBe('audio/wav');
  });

  it('OpenAI-compatible (whisper.cpp, vLLM): verbose_json, language names and log-probabilities', async () => {
    fake.enqueueBatch({
      kind: 'ok',
      body: {
        task: 'transcribe',
        language: 'english',
        duration: 2.5,
        text: ' Good morning.',
        segments: [
          {
            id: 0,
            seek: 0,
            start: 0,
            end: 2.4,
            text: ' Good morning.',
            avg_logprob: -0.2,
            no_speech_prob: 0.01,
          },
        ],
      },
    });
    const transcriber = httpTranscriber({
      dialect: 'openai-compatible',
      model: 'whisper-1',
      baseUrl: fake.baseUrl,
    });
    const transcript = await transcriber.transcribe(audio, {});
    expect(transcript.text).toBe('Good morning.');
    expect(transcript.language).toBe('en');
    expect(transcript.segments[0]!.confidence).toBeCloseTo(Math.exp(-0.2), 6);
    const request = fake.batchRequests.at(-1)!;
    expect(request.authorization).toBeUndefined();
    expect(request.fields).toMatchObject({
      response_format: 'verbose_json',
      'timestamp_granularities[]': 'segment',
    });
  });

  it('OpenAI gpt-4o-transcribe: json (the only format it gives)', async () => {
    fake.enqueueBatch({
      kind: 'ok',
      body: { text: 'Short.', usage: { type: 'duration', seconds: 2 } },
    });
    const transcriber = httpTranscriber({
      dialect: 'openai',
      model: 'gpt-4o-transcribe',
      baseUrl: fake.baseUrl,
      apiKey: 'sk-o',
    });
    const transcript = await transcriber.transcribe(audio, {});
    expect(transcript).toMatchObject({
      text: 'Short.',
      duration: 2,
      segments: [],
      provider: 'openai',
    });
    expect(fake.batchRequests.at(-1)!.fields.response_format).toBe('json');
  });

  it('400: the provider refused the audio, with its message; not retried', async () => {
    const before = fake.batchRequests.length;
    fake.enqueueBatch({
      kind: 'error',
      status: 400,
      body: {
        error: {
          message: 'Audio file might be corrupted or unsupported',
          type: 'invalid_request_error',
          code: 'invalid_value',
        },
      },
    });
    const transcriber = httpTranscriber({
      dialect: 'openai',
      model: 'whisper-1',
      baseUrl: fake.baseUrl,
      apiKey: 'sk-o',
      retry: fastRetry,
    });
    await expect(transcriber.transcribe(audio, {})).rejects.toThrow(
      'OpenAI transcription failed (HTTP 400): Audio file might be corrupted or unsupported: the provider refused the request or the audio (check the file is speech in a format it takes)',
    );
    expect(fake.batchRequests.length - before).toBe(1);
  });

  it('401: names the key to check, never the key; not retried', async () => {
    fake.enqueueBatch({
      kind: 'error',
      status: 401,
      body: { message: 'Unauthorized', request_id: 'r1' },
    });
    const transcriber = httpTranscriber({
      dialect: 'mistral',
      model: 'voxtral-mini-latest',
      baseUrl: fake.baseUrl,
      apiKey: 'sk-secret-value',
      keyName: 'MISTRAL_API_KEY',
      retry: fastRetry,
    });
    const failure = transcriber.transcribe(audio, {});
    await expect(failure).rejects.toThrow(
      'Mistral transcription failed (HTTP 401): Unauthorized: check MISTRAL_API_KEY',
    );
    await expect(failure).rejects.not.toThrow(/sk-secret-value/);
  });

  it('429 with retry-after: waits and tries again, then succeeds', async () => {
    const before = fake.batchRequests.length;
    fake.enqueueBatch(
      {
        kind: 'error',
        status: 429,
        headers: { 'retry-after': '0' },
        body: { error: { message: 'Rate limit reached', type: 'rate_limit_exceeded' } },
      },
      { kind: 'ok', body: { text: 'After the wait.' } },
    );
    const retries: string[] = [];
    const transcriber = httpTranscriber({
      dialect: 'openai',
      model: 'gpt-4o-transcribe',
      baseUrl: fake.baseUrl,
      apiKey: 'sk-o',
      retry: fastRetry,
      onRetry: (message) => retries.push(message),
    });
    expect((await transcriber.transcribe(audio, {})).text).toBe('After the wait.');
    expect(fake.batchRequests.length - before).toBe(2);
    expect(retries).toEqual(['OpenAI transcription failed (HTTP 429): Rate limit reached']);
  });

  it('429 asking for longer than agentd waits: stops at once and says so', async () => {
    fake.enqueueBatch({
      kind: 'error',
      status: 429,
      headers: { 'retry-after': '3600' },
      body: { error: { message: 'Quota exceeded' } },
    });
    const transcriber = httpTranscriber({
      dialect: 'openai',
      model: 'gpt-4o-transcribe',
      baseUrl: fake.baseUrl,
      apiKey: 'sk-o',
      retry: fastRetry,
    });
    await expect(transcriber.transcribe(audio, {})).rejects.toThrow(
      /retry after 3600 s, longer than agentd waits/,
    );
  });

  it('an unreachable server is one line with the URL', async () => {
    const transcriber = httpTranscriber({
      dialect: 'openai-compatible',
      model: 'whisper-1',
      baseUrl: 'http://127.0.0.1:9/v1',
      retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 5 },
    });
    await expect(transcriber.transcribe(audio, {})).rejects.toThrow(
      /the transcription server at http:\/\/127\.0\.0\.1:9\/v1 is unreachable/,
    );
  });

  it('bytes that are not audio are refused before any request', async () => {
    const before = fake.batchRequests.length;
    const transcriber = httpTranscriber({
      dialect: 'openai',
      model: 'whisper-1',
      baseUrl: fake.baseUrl,
      apiKey: 'sk-o',
    });
    await expect(
      transcriber.transcribe(
        { bytes: new TextEncoder().encode('hello, not audio'), name: 'notes.txt' },
        {},
      ),
    ).rejects.toThrow('notes.txt: not audio agentd can send (WAV, FLAC, MP3, Ogg/Opus, WebM, M4A)');
    expect(fake.batchRequests.length).toBe(before);
  });
});
