// The offline engine: Debian's pocketsphinx (`pocketsphinx_continuous`) with its en-us model,
// run as a subprocess that reads 16 kHz PCM on stdin and prints each utterance when its own
// voice activity detection finds the end of it. Far less accurate than the hosted models.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AgentdError } from '../core/errors.ts';
import { decodeToPcm, pcmBytes } from './audio.ts';
import type {
  BatchTranscriber,
  Segment,
  StreamEvent,
  StreamingTranscriber,
  Utterance,
} from './transcript.ts';

export const pocketsphinxModel = 'pocketsphinx-en-us';
const sampleRate = 16_000;

export interface PocketsphinxOptions {
  env?: Readonly<Record<string, string | undefined>>;
}

interface Engine {
  binary: string;
  modelDir: string;
}

/** The engine's binary and model, or a one-line error saying how to install them. */
export function findPocketsphinx(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Engine {
  const binary = env.AGENTD_POCKETSPHINX || 'pocketsphinx_continuous';
  const modelDir = env.AGENTD_POCKETSPHINX_MODEL || '/usr/share/pocketsphinx/model/en-us';
  const probe = spawnSync(binary, ['-h'], { stdio: 'ignore' });
  if (probe.error) {
    throw new AgentdError(
      'voice_engine_missing',
      `offline transcription needs pocketsphinx, and ${binary} is not installed: apt-get install pocketsphinx pocketsphinx-en-us (or pass --transcriber mistral or openai)`,
    );
  }
  if (!existsSync(join(modelDir, 'en-us'))) {
    throw new AgentdError(
      'voice_engine_missing',
      `offline transcription needs pocketsphinx's en-us model, not found in ${modelDir}: apt-get install pocketsphinx-en-us`,
    );
  }
  return { binary, modelDir };
}

/**
 * pocketsphinx reads `-infile /dev/stdin`, which must be a pipe: Node gives a child a socket,
 * so `cat` copies it into one. The two run in their own process group, ended together.
 */
function start(engine: Engine): ChildProcessWithoutNullStreams {
  const args = [
    '-infile',
    '/dev/stdin',
    '-time',
    'yes',
    '-logfn',
    '/dev/null',
    '-hmm',
    join(engine.modelDir, 'en-us'),
    '-lm',
    join(engine.modelDir, 'en-us.lm.bin'),
    '-dict',
    join(engine.modelDir, 'cmudict-en-us.dict'),
  ];
  return spawn('sh', ['-c', 'cat | "$0" "$@"', engine.binary, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
}

function killGroup(child: ChildProcessWithoutNullStreams): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const wordLine = /^(\S+) (\d+\.\d+) (\d+\.\d+) (-?\d+(?:\.\d+)?)$/;

/** Reads pocketsphinx's output: a hypothesis line, then one line per word up to `</s>`. */
export class PocketsphinxParser {
  #words: Array<{ word: string; start: number; end: number; p: number }> = [];
  #hypothesis = '';
  #uttStart: number | undefined;
  #index = 0;

  /** One line of output; an utterance when it completes one. */
  line(text: string): Utterance | undefined {
    const match = wordLine.exec(text.trim());
    if (!match) {
      this.#hypothesis = text.trim();
      this.#words = [];
      this.#uttStart = undefined;
      return undefined;
    }
    const [, token, start, end, p] = match;
    if (token === '<s>') {
      this.#uttStart = Number(end);
      return undefined;
    }
    if (token !== '</s>') {
      if (!token!.startsWith('<') && !token!.startsWith('[')) {
        this.#words.push({
          word: token!.replace(/\(\d+\)$/, ''),
          start: Number(start),
          end: Number(end),
          p: Number(p),
        });
      }
      return undefined;
    }
    const words = this.#words;
    this.#words = [];
    const text2 = words.map((w) => w.word).join(' ') || this.#hypothesis;
    this.#hypothesis = '';
    if (!text2) return undefined;
    const first = words[0]?.start ?? this.#uttStart ?? Number(start);
    const last = words.at(-1)?.end ?? Number(start);
    const confidence = words.length
      ? words.reduce((sum, w) => sum + w.p, 0) / words.length
      : undefined;
    const segment: Segment = {
      text: text2,
      start: first,
      end: last,
      ...(confidence !== undefined ? { confidence } : {}),
    };
    return {
      index: this.#index++,
      text: text2,
      language: 'en',
      segments: [segment],
      startMs: Math.round(first * 1000),
      endMs: Math.round(last * 1000),
    };
  }
}

export function pocketsphinxStreaming(options: PocketsphinxOptions = {}): StreamingTranscriber {
  const engine = findPocketsphinx(options.env);
  return {
    provider: 'offline',
    model: pocketsphinxModel,
    offline: true,
    sampleRate,
    stream: (audio, { signal }) => streamUtterances(engine, audio, signal),
  };
}

async function* streamUtterances(
  engine: Engine,
  audio: AsyncIterable<Int16Array>,
  signal: AbortSignal | undefined,
): AsyncIterable<StreamEvent> {
  const child = start(engine);
  const kill = () => killGroup(child);
  signal?.addEventListener('abort', kill, { once: true });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  );
  child.stdin.on('error', () => {});
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const feeding = (async () => {
    for await (const chunk of audio) {
      if (signal?.aborted || child.exitCode !== null) break;
      if (!child.stdin.write(pcmBytes(chunk))) {
        await Promise.race([new Promise((resolve) => child.stdin.once('drain', resolve)), gone]);
      }
    }
    child.stdin.end();
  })();
  feeding.catch(() => kill());
  const parser = new PocketsphinxParser();
  try {
    for await (const text of createInterface({ input: child.stdout })) {
      const utterance = parser.line(text);
      if (utterance) {
        yield { type: 'speech-stopped', atMs: utterance.endMs };
        yield { type: 'final', utterance };
      }
    }
    await feeding;
    const code = await exited;
    if (code !== 0 && !signal?.aborted) {
      throw new AgentdError(
        'voice_provider_failed',
        `pocketsphinx stopped with exit code ${code}: ${stderr.trim().split('\n').at(-1) ?? ''}`,
      );
    }
  } finally {
    signal?.removeEventListener('abort', kill);
    if (child.exitCode === null) kill();
  }
}

export function pocketsphinxBatch(options: PocketsphinxOptions = {}): BatchTranscriber {
  const streaming = pocketsphinxStreaming(options);
  return {
    provider: 'offline',
    model: pocketsphinxModel,
    offline: true,
    async transcribe(audio, { signal }) {
      const pcm = await decodeToPcm(audio.bytes, sampleRate, {
        name: audio.name,
        ...(options.env ? { env: options.env } : {}),
      });
      async function* whole() {
        yield pcm.samples;
      }
      const segments: Segment[] = [];
      for await (const event of streaming.stream(whole(), { ...(signal ? { signal } : {}) })) {
        if (event.type === 'final') segments.push(...event.utterance.segments);
      }
      return {
        text: segments.map((s) => s.text).join(' '),
        language: 'en',
        duration: pcm.samples.length / sampleRate,
        segments,
        provider: 'offline',
        model: pocketsphinxModel,
      };
    },
  };
}
