import { type Command, InvalidArgumentError, Option } from 'commander';
import { type AgentFlags, agentOptions, limitsOf } from './agent-options.ts';
import type { CommandContext } from './command-context.ts';

const transcriberHelp =
  'offline (pocketsphinx, the default: far less accurate), mistral[/model], openai[/model] or openai-compatible/<model> with --base-url';

function sampleRate(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 8000 || n > 192_000) {
    throw new InvalidArgumentError(`"${value}" is not a sample rate in Hz (8000 to 192000)`);
  }
  return n;
}

/** `agentd voice` (talk to an agent) and `agentd transcribe` (a recording to text). */
export function registerVoice(program: Command, context: CommandContext): void {
  agentOptions(
    program
      .command('voice')
      .description('talk to an agent: each utterance of the audio becomes a turn of one run')
      .argument('<agent>', 'agent spec file or folder, or the name of an agent')
      .requiredOption(
        '-i, --input <file|->',
        'audio file (WAV, FLAC, MP3, Ogg/Opus) or - for stdin (WAV or raw PCM)',
      )
      .option('-t, --transcriber <name>', transcriberHelp)
      .option(
        '--base-url <url>',
        "the transcription server's URL (openai-compatible, or to override a provider's)",
      )
      .option('--language <code>', 'the language spoken, e.g. en (helps the hosted models)')
      .option('--pcm-rate <hz>', 'stdin is raw 16-bit mono PCM at this rate', sampleRate)
      .option('--no-pace', 'feed a file as fast as it decodes, not at the pace of speech')
      .option('--no-barge-in', 'let the agent finish its answer when the person speaks again')
      .addOption(
        new Option('--speak [engine]', 'speak the answers: espeak-ng (offline) or openai').choices([
          'espeak-ng',
          'openai',
        ]),
      )
      .option(
        '--speak-to <file.wav>',
        'write the spoken answers to this WAV file instead of playing them',
      )
      .option(
        '--keep-audio',
        "keep each utterance's audio (content-addressed under AGENTD_HOME/audio), not only its transcript",
      )
      .option('--run <id>', 'continue this run (a voice session stopped before the audio ended)'),
  ).action(async (agent: string, flags: VoiceFlags) => {
    const { voiceCommand } = await import('../commands/voice.ts');
    context.exit(await voiceCommand(agent, { ...flags, limits: limitsOf(flags) }));
  });

  program
    .command('transcribe')
    .description('transcribe a recording (batch): text, JSON with segments, or subtitles')
    .argument('<file>', 'audio file: WAV, FLAC, MP3, Ogg/Opus, WebM or M4A')
    .option('-t, --transcriber <name>', transcriberHelp)
    .option(
      '--base-url <url>',
      "the transcription server's URL (openai-compatible, or to override a provider's)",
    )
    .option('--language <code>', 'the language spoken, e.g. en')
    .addOption(
      new Option('-f, --format <format>', 'output')
        .choices(['text', 'json', 'srt', 'vtt'])
        .default('text'),
    )
    .option('--json', 'the same as --format json')
    .action(async (file: string, flags: TranscribeFlags) => {
      const { transcribeCommand } = await import('../commands/transcribe.ts');
      context.exit(await transcribeCommand(file, flags));
    });
}

export interface VoiceFlags extends AgentFlags {
  input: string;
  transcriber?: string;
  baseUrl?: string;
  language?: string;
  pcmRate?: number;
  pace: boolean;
  bargeIn: boolean;
  speak?: 'espeak-ng' | 'openai' | true;
  speakTo?: string;
  keepAudio?: boolean;
  run?: string;
}

export interface TranscribeFlags {
  transcriber?: string;
  baseUrl?: string;
  language?: string;
  format: 'text' | 'json' | 'srt' | 'vtt';
  json?: boolean;
}
