import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../config/config.ts';
import { AgentdError } from '../../core/errors.ts';
import type { Limits, RunEvent } from '../../core/events.ts';
import { foldRun } from '../../core/run-state.ts';
import { resolveAgentRef } from '../../definition/agent-catalog.ts';
import { resumeRun } from '../../runtime/agent-loop.ts';
import { prepareAgent } from '../../runtime/prepare-agent.ts';
import { openStore } from '../../store/open-store.ts';
import { wavOf } from '../../voice/audio.ts';
import { type AudioSource, fileSource, streamSource } from '../../voice/audio-source.ts';
import { createSpeaker } from '../../voice/speaker.ts';
import { chooseTranscriber, streamingTranscriber } from '../../voice/transcriber.ts';
import { offlineAccuracyNotice } from '../../voice/transcript.ts';
import { runVoiceSession, type UtteranceReport } from '../../voice/voice-session.ts';
import { formatDuration, paint, printNotice } from '../format.ts';
import type { VoiceFlags } from '../program/voice.ts';
import { cancelOnInterrupt, createRunView, exitCodes } from '../run-view.ts';

/** `agentd voice <agent> --input <file|->`: a spoken conversation with an agent, as one run. */
export async function voiceCommand(
  agentRef: string,
  flags: VoiceFlags & { limits?: Partial<Limits> },
): Promise<number> {
  const settings = loadConfig();
  const specPath = resolveAgentRef(agentRef, settings);
  // A bad --transcriber or a missing key is said before anything starts.
  const choice = chooseTranscriber(flags.transcriber, 'realtime', settings, flags.baseUrl);
  const { config, spec, agent, resolved, redact, toolset } = await prepareAgent(
    specPath,
    {
      ...(flags.model ? { model: flags.model } : {}),
      ...(flags.effort ? { effort: flags.effort } : {}),
      ...(flags.limits ? { limits: flags.limits } : {}),
    },
    { onNotice: printNotice },
  );
  const transcriber = streamingTranscriber(choice, config.env);
  if (transcriber.offline) printNotice(offlineAccuracyNotice);
  const store = openStore(config, { redact });
  const view = createRunView({ json: flags.json ?? false, redact });
  const interrupt = cancelOnInterrupt();
  const speaker = flags.speak
    ? createSpeaker(flags.speak === true ? 'espeak-ng' : flags.speak, config, flags.speakTo)
    : undefined;
  try {
    // A session stopped before its audio ended: the run goes on where its log stops.
    let firstUtterance = 0;
    let audioOffsetMs = 0;
    let runId: string | undefined;
    if (flags.run) {
      const run = await store.getRun(flags.run);
      if (!run)
        throw new AgentdError(
          'run_not_found',
          `--run: no run "${flags.run}": see agentd runs list`,
        );
      const id = run.id;
      runId = id;
      const events = await store.readEvents(id);
      const transcripts = events.filter(
        (e): e is Extract<RunEvent, { type: 'voice.transcript' }> => e.type === 'voice.transcript',
      );
      firstUtterance = transcripts.length;
      audioOffsetMs = flags.input === '-' ? 0 : (transcripts.at(-1)?.data.endMs ?? 0);
      const state = foldRun(id, events);
      if (state.agent !== agent.name) {
        throw new AgentdError(
          'usage',
          `--run: run ${id} is agent ${state.agent}'s, not ${agent.name}'s`,
        );
      }
      if (
        state.status !== 'completed' &&
        state.status !== 'cancelled' &&
        state.status !== 'failed'
      ) {
        // The answer the stop cut off is given first.
        await resumeRun({
          store,
          agent,
          runId: id,
          signal: interrupt.signal,
          onEvent: view.onEvent,
          ...(view.onLive ? { onLive: view.onLive } : {}),
        });
      }
    }
    const source: AudioSource =
      flags.input === '-'
        ? streamSource(process.stdin, transcriber.sampleRate, flags.pcmRate)
        : await fileSource(flags.input, transcriber.sampleRate, {
            paced: flags.pace,
            skipMs: audioOffsetMs,
            env: config.env,
          });
    const keepAudio = flags.keepAudio
      ? async (u: { startMs: number; endMs: number }) => {
          const wav = wavOf({
            sampleRate: transcriber.sampleRate,
            samples: source.slice(u.startMs, u.endMs),
          });
          const digest = createHash('sha256').update(wav).digest('hex');
          const dir = join(config.home, 'audio');
          mkdirSync(dir, { recursive: true });
          writeFileSync(join(dir, `${digest}.wav`), wav);
          return { digest: `sha256:${digest}`, bytes: wav.length };
        }
      : undefined;
    let shownResume = false;
    const result = await runVoiceSession({
      store,
      agent,
      transcriber,
      audio: source.chunks,
      heardAt: source.heardAt,
      ...(flags.language ? { language: flags.language } : {}),
      ...(runId ? { runId } : {}),
      firstUtterance,
      audioOffsetMs,
      specPath: resolve(spec.path),
      ...(resolved.scripted ? { scripted: resolved.scripted } : {}),
      signal: interrupt.signal,
      bargeIn: flags.bargeIn,
      onEvent: (event) => {
        // A new turn is a new session of the run; say "resuming" only for a stopped one.
        if (event.type === 'run.resumed' && (shownResume || !flags.run)) return;
        if (event.type === 'run.resumed') shownResume = true;
        view.onEvent(event);
      },
      ...(view.onLive ? { onLive: view.onLive } : {}),
      onReconnected: (attempt, reason) =>
        process.stderr.write(
          paint(
            'yellow',
            `↻ transcription ${reason}; reconnected (attempt ${attempt}), sending the utterance again\n`,
          ),
        ),
      onUtterance: (report) => process.stderr.write(`${paint('dim', latencyLine(report))}\n`),
      ...(speaker ? { speaker } : {}),
      ...(keepAudio ? { keepAudio } : {}),
    });
    if (result.utterances.length === 0) {
      process.stderr.write(
        `${paint('yellow', 'no speech recognized')} in ${flags.input === '-' ? 'stdin' : flags.input}${flags.run ? ' after the utterances the run already has' : ''}\n`,
      );
      return flags.run ? 0 : 1;
    }
    const status = result.last?.state.status;
    return status ? exitCodes[status] : 1;
  } finally {
    interrupt.dispose();
    await speaker?.close();
    await store.close();
    await toolset.close();
  }
}

function latencyLine(report: UtteranceReport): string {
  const parts = [
    `⏱ utterance #${report.utterance}: transcript ${formatDuration(report.finalLatencyMs)} after end of speech`,
  ];
  if (report.toRequestMs !== undefined)
    parts.push(`model request +${formatDuration(report.toRequestMs)}`);
  if (report.firstTokenMs !== undefined)
    parts.push(`first token ${formatDuration(report.firstTokenMs)} after end of speech`);
  if (report.interrupted) parts.push('answer cut off by the next utterance (barge-in)');
  return parts.join(' · ');
}
