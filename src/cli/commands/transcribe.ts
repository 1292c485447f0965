import { readFile } from 'node:fs/promises';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import { transcriptionCost } from '../../voice/catalog.ts';
import { batchTranscriber, chooseTranscriber } from '../../voice/transcriber.ts';
import { offlineAccuracyNotice, toSrt, toVtt } from '../../voice/transcript.ts';
import { formatCost, formatDuration, paint, printNotice } from '../format.ts';
import type { TranscribeFlags } from '../program/voice.ts';

/** `agentd transcribe <file>`: the transcript on stdout, what it cost on stderr. */
export async function transcribeCommand(file: string, flags: TranscribeFlags): Promise<number> {
  const config = loadConfig();
  const choice = chooseTranscriber(flags.transcriber, 'batch', config, flags.baseUrl);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    throw new AgentdError('usage', `${file} does not exist or cannot be read`);
  }
  if (bytes.length === 0)
    throw new AgentdError('audio_invalid', `${file} is empty: there is no audio to transcribe`);
  const transcriber = batchTranscriber(choice, config.env, (message, delayMs) =>
    process.stderr.write(paint('yellow', `↻ ${message}; retry in ${formatDuration(delayMs)}\n`)),
  );
  if (transcriber.offline) printNotice(offlineAccuracyNotice);
  const started = Date.now();
  const transcript = await transcriber.transcribe(
    { bytes, name: file },
    { ...(flags.language ? { language: flags.language } : {}) },
  );
  const format = flags.json ? 'json' : flags.format;
  const cost =
    transcript.duration !== undefined
      ? transcriptionCost(transcript.provider, choice.model, 'batch', transcript.duration * 1000)
      : null;
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify({ ...transcript, costUsd: cost }, null, 2)}\n`);
  } else if (format === 'srt') process.stdout.write(toSrt(transcript));
  else if (format === 'vtt') process.stdout.write(toVtt(transcript));
  else process.stdout.write(`${transcript.text}\n`);
  process.stderr.write(
    paint(
      'dim',
      `${transcript.provider}/${transcript.model} · ${transcript.duration !== undefined ? `${transcript.duration.toFixed(1)} s of audio` : 'duration unknown'}${transcript.language ? ` · ${transcript.language}` : ''} · ${transcript.segments.length} segments · ${formatCost(cost)} · ${formatDuration(Date.now() - started)}\n`,
    ),
  );
  return 0;
}
