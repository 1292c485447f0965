// Speaking an agent's answer as it streams: sentence by sentence, with espeak-ng (offline,
// Debian) or OpenAI's speech endpoint; played with sox's `play` or aplay, or written to a
// WAV file. Barge-in stops it at once.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Config } from '../config/config.ts';
import { AgentdError } from '../core/errors.ts';
import { downmix, isPcm16, readWavHeader, resample, wavOf } from './audio.ts';
import { httpFailure } from './provider-error.ts';

export interface Speaker {
  say(text: string): void;
  stop(): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

type Synthesize = (text: string) => Promise<Uint8Array>;

function espeak(): Synthesize {
  if (spawnSync('espeak-ng', ['--version'], { stdio: 'ignore' }).error) {
    throw new AgentdError(
      'voice_engine_missing',
      '--speak espeak-ng: espeak-ng is not installed: apt-get install espeak-ng (or --speak openai)',
    );
  }
  return (text) =>
    new Promise((resolve, reject) => {
      const child = spawn('espeak-ng', ['--stdout', text], { stdio: ['ignore', 'pipe', 'ignore'] });
      const out: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.on('error', reject);
      child.on('close', () => resolve(Buffer.concat(out)));
    });
}

function openaiSpeech(config: Pick<Config, 'env' | 'providers' | 'configPath'>): Synthesize {
  const apiKey = config.env.OPENAI_API_KEY || config.providers.openai?.api_key;
  if (!apiKey) {
    throw new AgentdError(
      'model_credentials_missing',
      `--speak openai: OPENAI_API_KEY is not set (or add providers.openai.api_key to ${config.configPath}); --speak espeak-ng works offline`,
    );
  }
  const base = (
    config.env.OPENAI_BASE_URL ||
    config.providers.openai?.base_url ||
    'https://api.openai.com/v1'
  ).replace(/\/+$/, '');
  return async (text) => {
    const response = await fetch(`${base}/audio/speech`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'gpt-4o-mini-tts',
        voice: 'alloy',
        input: text,
        response_format: 'wav',
      }),
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (!response.ok) {
      throw httpFailure(
        'OpenAI',
        'speech',
        response.status,
        Buffer.from(bytes).toString('utf8'),
        response.headers,
        'OPENAI_API_KEY',
      );
    }
    return bytes;
  };
}

function player(): string[] | undefined {
  if (!spawnSync('play', ['--version'], { stdio: 'ignore' }).error)
    return ['play', '-q', '-t', 'wav', '-'];
  if (!spawnSync('aplay', ['--version'], { stdio: 'ignore' }).error) return ['aplay', '-q', '-'];
  return undefined;
}

export function createSpeaker(
  engine: 'espeak-ng' | 'openai',
  config: Pick<Config, 'env' | 'providers' | 'configPath'>,
  outFile: string | undefined,
): Speaker {
  const synthesize = engine === 'espeak-ng' ? espeak() : openaiSpeech(config);
  const play = outFile ? undefined : player();
  if (!outFile && !play) {
    process.stderr.write(
      "note: --speak: no audio player (sox's play or aplay); pass --speak-to answers.wav to write the speech to a file\n",
    );
  }
  const written: Int16Array[] = [];
  const rate = 22_050;
  let text = '';
  let queue = Promise.resolve();
  let generation = 0;
  let playing: ChildProcess | undefined;

  const speak = (sentence: string) => {
    const mine = generation;
    queue = queue.then(async () => {
      if (mine !== generation || !sentence.trim()) return;
      const wav = await synthesize(sentence).catch((error: Error) => {
        process.stderr.write(`note: --speak: ${error.message}\n`);
        return undefined;
      });
      if (!wav || mine !== generation) return;
      if (outFile) {
        const header = readWavHeader(wav);
        if (header && isPcm16(header)) {
          const mono = downmix(
            wav.subarray(header.dataOffset, header.dataOffset + header.dataBytes),
            header.channels,
          );
          written.push(resample(mono, header.sampleRate, rate));
        }
        return;
      }
      if (!play) return;
      await new Promise<void>((resolve) => {
        const child = spawn(play[0]!, play.slice(1), { stdio: ['pipe', 'ignore', 'ignore'] });
        playing = child;
        child.on('error', () => resolve());
        child.on('close', () => resolve());
        child.stdin?.on('error', () => {});
        child.stdin?.end(wav);
      });
      playing = undefined;
    });
  };

  return {
    say(delta) {
      text += delta;
      // Whole sentences are spoken as soon as they are there.
      for (let match = /[.!?:;\n]\s/.exec(text); match; match = /[.!?:;\n]\s/.exec(text)) {
        speak(text.slice(0, match.index + 1));
        text = text.slice(match.index + match[0].length);
      }
    },
    stop() {
      generation++;
      text = '';
      playing?.kill('SIGKILL');
    },
    async flush() {
      if (text.trim()) speak(text);
      text = '';
      await queue;
    },
    async close() {
      await queue;
      if (outFile && written.length) {
        const total = written.reduce((n, w) => n + w.length, 0);
        const samples = new Int16Array(total);
        let at = 0;
        for (const w of written) {
          samples.set(w, at);
          at += w.length;
        }
        writeFileSync(outFile, wavOf({ sampleRate: rate, samples }));
      }
    },
  };
}
