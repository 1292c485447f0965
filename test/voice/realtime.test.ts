import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mistralRealtime } from '../../src/voice/mistral-realtime.ts';
import { openaiRealtime } from '../../src/voice/openai-realtime.ts';
import type { StreamEvent, StreamingTranscriber } from '../../src/voice/transcript.ts';
import { chunked, FakeVoiceServer, toneUtterances } from '../support/fake-voice.ts';

let fake: FakeVoiceServer;
beforeAll(async () => {
  fake = await FakeVoiceServer.start();
});
afterAll(async () => {
  await fake.close();
});

async function collect(
  transcriber: StreamingTranscriber,
  utterances: number,
): Promise<StreamEvent[]> {
  const rate = transcriber.sampleRate;
  const events: StreamEvent[] = [];
  for await (const event of transcriber.stream(chunked(toneUtterances(rate, utterances), rate), {
    language: 'en',
  })) {
    events.push(event);
  }
  return events;
}

const finals = (events: StreamEvent[]) =>
  events.flatMap((e) => (e.type === 'final' ? [e.utterance] : []));

describe('OpenAI realtime transcription', () => {
  const transcriber = () =>
    openaiRealtime({
      baseUrl: fake.baseUrl,
      apiKey: 'sk-voice-test',
      keyName: 'OPENAI_API_KEY',
      model: 'gpt-4o-transcribe',
    });

  it('configures a transcription session, streams 24 kHz PCM and gives each committed item as an utterance', async () => {
    fake.setRealtime({ texts: ['what time is it', 'thank you'], key: 'sk-voice-test' });
    fake.realtime.connections.length = 0;
    const events = await collect(transcriber(), 2);
    const utterances = finals(events);
    expect(utterances.map((u) => u.text)).toEqual(['what time is it', 'thank you']);
    expect(utterances.map((u) => u.index)).toEqual([0, 1]);
    // Times come from the server's audio_start_ms / audio_end_ms: the second after the first.
    expect(utterances[1]!.startMs).toBeGreaterThan(utterances[0]!.endMs);
    expect(utterances[0]!.segments[0]!.confidence).toBeCloseTo(Math.exp(-0.1), 5);
    expect(events.filter((e) => e.type === 'partial').length).toBeGreaterThan(0);
    expect(events.map((e) => e.type).filter((t) => t !== 'partial')).toEqual([
      'speech-started',
      'speech-stopped',
      'final',
      'speech-started',
      'speech-stopped',
      'final',
    ]);
    const [connection] = fake.realtime.connections;
    expect(connection!.url).toBe('/v1/realtime?intent=transcription');
    const [update, ...rest] = connection!.messages;
    expect(update).toMatchObject({
      type: 'session.update',
      session: {
        type: 'transcription',
        audio: {
          input: {
            format: { type: 'audio/pcm', rate: 24000 },
            transcription: { model: 'gpt-4o-transcribe', language: 'en' },
            turn_detection: { type: 'server_vad' },
          },
        },
      },
    });
    expect(rest.slice(0, -1).every((m) => m.type === 'input_audio_buffer.append')).toBe(true);
    // At the end of the audio the tail is committed (the server says it is empty).
    expect(rest.at(-1)).toEqual({ type: 'input_audio_buffer.commit' });
  });

  it('says which key the server refused (401 on the upgrade)', async () => {
    fake.setRealtime({ texts: ['x'], key: 'sk-another-key' });
    await expect(collect(transcriber(), 1)).rejects.toThrow(
      /OpenAI refused the realtime connection \(HTTP 401\).*Incorrect API key.*check OPENAI_API_KEY/,
    );
  });

  it('opens a dropped socket again and sends the audio not yet transcribed again', async () => {
    fake.setRealtime({
      texts: ['first words', 'second words'],
      key: 'sk-voice-test',
      dropAfterAppends: 15,
    });
    fake.realtime.connections.length = 0;
    const events = await collect(transcriber(), 2);
    expect(finals(events).map((u) => u.text)).toEqual(['first words', 'second words']);
    const reconnected = events.filter((e) => e.type === 'reconnected');
    expect(reconnected).toHaveLength(1);
    expect(fake.realtime.connections).toHaveLength(2);
    // The second session is configured again before the audio is sent again.
    expect(fake.realtime.connections[1]!.messages[0]!.type).toBe('session.update');
    const appended = (i: number) =>
      fake.realtime.connections[i]!.messages.filter((m) => m.type === 'input_audio_buffer.append')
        .length;
    // 14 appends reached the first server before the drop; all of them were sent again.
    expect(appended(1)).toBeGreaterThan(14);
  });
});

describe('Mistral Voxtral Realtime', () => {
  const transcriber = () =>
    mistralRealtime({
      baseUrl: fake.baseUrl,
      apiKey: 'sk-mistral-test',
      keyName: 'MISTRAL_API_KEY',
      model: 'voxtral-mini-transcribe-realtime-2602',
      targetDelayMs: 160,
    });

  it('streams each utterance its VAD finds on its own session and ends it with input_audio.end', async () => {
    fake.setRealtime({ texts: ['bonjour tout le monde', 'merci'], key: 'sk-mistral-test' });
    fake.realtime.connections.length = 0;
    const events = await collect(transcriber(), 2);
    const utterances = finals(events);
    expect(utterances.map((u) => u.text)).toEqual(['bonjour tout le monde', 'merci']);
    expect(utterances.every((u) => u.language === 'en')).toBe(true);
    // Segment times are the session's, moved to where the utterance began in the stream.
    expect(utterances[1]!.segments[0]!.start).toBeCloseTo(utterances[1]!.startMs / 1000 + 0.1, 3);
    expect(fake.realtime.connections).toHaveLength(2);
    for (const connection of fake.realtime.connections) {
      expect(connection.url).toBe(
        '/v1/audio/transcriptions/realtime?model=voxtral-mini-transcribe-realtime-2602',
      );
      expect(connection.messages[0]).toEqual({
        type: 'session.update',
        session: {
          audio_format: { encoding: 'pcm_s16le', sample_rate: 16000 },
          target_streaming_delay_ms: 160,
        },
      });
      expect(connection.messages.slice(1, -1).every((m) => m.type === 'input_audio.append')).toBe(
        true,
      );
      expect(connection.messages.at(-1)).toEqual({ type: 'input_audio.end' });
    }
  });

  it('opens a dropped socket again and sends the utterance again', async () => {
    fake.setRealtime({ texts: ['one two three'], key: 'sk-mistral-test', dropAfterAppends: 4 });
    fake.realtime.connections.length = 0;
    const events = await collect(transcriber(), 1);
    expect(finals(events).map((u) => u.text)).toEqual(['one two three']);
    expect(events.filter((e) => e.type === 'reconnected')).toHaveLength(1);
    expect(fake.realtime.connections).toHaveLength(2);
    expect(fake.realtime.connections[1]!.messages.at(-1)).toEqual({ type: 'input_audio.end' });
  });

  it('says which key the server refused', async () => {
    fake.setRealtime({ texts: ['x'], key: 'sk-right' });
    await expect(collect(transcriber(), 1)).rejects.toThrow(
      /Mistral refused the realtime connection \(HTTP 401\).*check MISTRAL_API_KEY/,
    );
  });
});
