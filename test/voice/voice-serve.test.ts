import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig } from '../../src/config/config.ts';
import { ApiKeys } from '../../src/server/api-keys.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { FakeVoiceServer, toneUtterances } from '../support/fake-voice.ts';
import { tempDir } from '../support/temp-dir.ts';

let fake: FakeVoiceServer;
let server: RunningServer;
let store: SqliteStore;
let keys: { runs: string; readOnly: string };

beforeAll(async () => {
  fake = await FakeVoiceServer.start();
  const home = tempDir();
  const agents = join(home, 'agents', 'echo');
  mkdirSync(agents, { recursive: true });
  writeFileSync(
    join(agents, 'script.yaml'),
    'turns:\n  - text: "You said: {{message}}"\n    repeat: 20\n',
  );
  writeFileSync(
    join(agents, 'agent.yaml'),
    'name: echo\nmodel: scripted/echo\nscript: script.yaml\ninstructions: Repeat.\n',
  );
  const config = loadConfig({
    AGENTD_HOME: home,
    MISTRAL_API_KEY: 'sk-serve-voice',
    MISTRAL_BASE_URL: fake.baseUrl,
  });
  store = new SqliteStore({ path: config.dbPath });
  server = await startServer({
    store,
    config,
    host: '127.0.0.1',
    port: 0,
    version: 'test',
    log: () => {},
  });
  const apiKeys = new ApiKeys(store);
  keys = {
    runs: (await apiKeys.create('talker', ['runs'])).key,
    readOnly: (await apiKeys.create('auditor', ['audit'])).key,
  };
});
afterAll(async () => {
  await server.close();
  await store.close();
  await fake.close();
});

const wsUrl = (query: string) => `${server.url.replace('http', 'ws')}/voice?${query}`;

/** Opens a voice session, sends the audio and `end`, and collects every message until the server closes. */
function session(
  url: string,
  init: { headers?: Record<string, string>; protocols?: string[] },
  audio: Int16Array,
) {
  return new Promise<Array<Record<string, unknown>>>((resolve, reject) => {
    const ws = new WebSocket(url, init.protocols ?? [], { headers: init.headers ?? {} });
    const messages: Array<Record<string, unknown>> = [];
    ws.on('open', () => {
      for (let i = 0; i < audio.length; i += 1600)
        ws.send(Buffer.from(audio.slice(i, i + 1600).buffer));
      ws.send(JSON.stringify({ type: 'end' }));
    });
    ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
    ws.on('close', () => resolve(messages));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', reject);
  });
}

describe('agentd serve: voice sessions at /voice', () => {
  it('a browser-style session (key in the subprotocols): each utterance a turn, the answer streamed back', async () => {
    fake.setRealtime({ texts: ['hello agent', 'goodbye agent'], key: 'sk-serve-voice' });
    const messages = await session(
      wsUrl('agent=echo&transcriber=mistral&rate=16000'),
      { protocols: ['agentd-voice', keys.runs] },
      toneUtterances(16000, 2),
    );
    expect(messages[0]).toEqual({
      type: 'ready',
      transcriber: {
        provider: 'mistral',
        model: 'voxtral-mini-transcribe-realtime-2602',
        offline: false,
      },
    });
    const utterances = messages.filter((m) => m.type === 'utterance');
    expect(utterances.map((u) => [u.utterance, u.text, u.answer])).toEqual([
      [0, 'hello agent', '[scripted] You said: hello agent'],
      [1, 'goodbye agent', '[scripted] You said: goodbye agent'],
    ]);
    const text = messages
      .filter((m) => m.type === 'text')
      .map((m) => m.text)
      .join('');
    expect(text).toContain('You said: goodbye agent');
    const done = messages.at(-1)!;
    expect(done).toMatchObject({ type: 'done', status: 'completed' });
    const events = await store.readEvents(String(done.runId));
    expect(events.filter((e) => e.type === 'voice.transcript')).toHaveLength(2);
  });

  it('refuses no key, an unknown key, a key without the runs scope, an unknown agent and a bad transcriber', async () => {
    const tone = toneUtterances(16000, 1);
    await expect(session(wsUrl('agent=echo'), {}, tone)).rejects.toThrow('HTTP 401');
    await expect(
      session(wsUrl('agent=echo'), { headers: { authorization: 'Bearer agentd_nope' } }, tone),
    ).rejects.toThrow('HTTP 401');
    await expect(
      session(wsUrl('agent=echo'), { headers: { authorization: `Bearer ${keys.readOnly}` } }, tone),
    ).rejects.toThrow('HTTP 403');
    await expect(
      session(wsUrl('agent=nobody'), { headers: { authorization: `Bearer ${keys.runs}` } }, tone),
    ).rejects.toThrow('HTTP 404');
    await expect(
      session(
        wsUrl('agent=echo&transcriber=siri'),
        { headers: { authorization: `Bearer ${keys.runs}` } },
        tone,
      ),
    ).rejects.toThrow('HTTP 400');
    await expect(
      session(
        wsUrl('agent=echo&rate=12'),
        { headers: { authorization: `Bearer ${keys.runs}` } },
        tone,
      ),
    ).rejects.toThrow('HTTP 400');
  });
});
