// A person talking to an agent: each final utterance of the transcriber becomes a user turn
// of one run (the first starts it, the next continue it), the answer streams back, and
// speech while the agent answers cancels the answer (barge-in). Latency is measured per
// utterance: end of speech to final transcript, to the model request, to the first token.
import type { RunEvent, VoiceTranscriptData } from '../core/events.ts';
import {
  type AgentDefinition,
  continueWithTurn,
  type LiveUpdate,
  type RunResult,
  runAgent,
} from '../runtime/agent-loop.ts';
import type { Store } from '../store/store.ts';
import { transcriptionCost } from './catalog.ts';
import type { StreamingTranscriber, Utterance } from './transcript.ts';

export interface UtteranceReport {
  utterance: number;
  text: string;
  /** End of speech (when that audio was heard) to the final transcript. */
  finalLatencyMs: number;
  /** Final transcript to the model request being durable: agentd's own part. */
  toRequestMs?: number;
  /** End of speech to the agent's first token. */
  firstTokenMs?: number;
  /** The answer was cut off by the person speaking again. */
  interrupted: boolean;
  answer?: string;
}

export interface VoiceSessionOptions {
  store: Store;
  agent: AgentDefinition;
  transcriber: StreamingTranscriber;
  /** PCM16 mono at the transcriber's rate. */
  audio: AsyncIterable<Int16Array>;
  /** When each millisecond of the audio was heard (wall clock), for the latencies. */
  heardAt: (audioMs: number) => number;
  language?: string;
  /** Continue this run (a session killed and started again). */
  runId?: string;
  /** Utterances already in the run (resume): the next are numbered on from here. */
  firstUtterance?: number;
  /** Where the audio fed starts in the session's audio (resume: after the last utterance). */
  audioOffsetMs?: number;
  specPath?: string;
  scripted?: { script: string };
  signal?: AbortSignal;
  /** Speech while the agent answers cancels the answer (default true). */
  bargeIn?: boolean;
  onEvent?: (event: RunEvent) => void;
  onLive?: (update: LiveUpdate) => void;
  onPartial?: (text: string) => void;
  onReconnected?: (attempt: number, reason: string) => void;
  onUtterance?: (report: UtteranceReport) => void;
  /** Speaks the answer's text as it streams (TTS); stopped on barge-in. */
  speaker?: { say(text: string): void; stop(): void; flush(): Promise<void> };
  /** Keeps the utterance's audio (content-addressed) and returns where. */
  keepAudio?: (utterance: Utterance) => Promise<{ digest: string; bytes: number }>;
  now?: () => number;
}

export interface VoiceSessionResult {
  runId: string | undefined;
  utterances: UtteranceReport[];
  last?: RunResult;
}

/** Cancels an answer because the person spoke again. */
export class BargeIn {
  readonly reason = 'the person spoke while the agent answered';
}

export async function runVoiceSession(options: VoiceSessionOptions): Promise<VoiceSessionResult> {
  const now = options.now ?? Date.now;
  const { transcriber } = options;
  let runId = options.runId;
  const reports: UtteranceReport[] = [];
  let answering:
    | { controller: AbortController; done: Promise<RunResult | undefined>; report: UtteranceReport }
    | undefined;
  let last: RunResult | undefined;
  // A turn that threw (not a run that failed: that is in its log) ends the session with its error.
  let failure: unknown;
  let next = options.firstUtterance ?? 0;
  const offset = options.audioOffsetMs ?? 0;

  const bargeIn = () => {
    if (options.bargeIn === false) return;
    if (!answering || answering.controller.signal.aborted) return;
    answering.report.interrupted = true;
    answering.controller.abort(new BargeIn());
    options.speaker?.stop();
  };

  const answer = async (utterance: Utterance, finalAt: number, report: UtteranceReport) => {
    const index = next++;
    const transcript: VoiceTranscriptData = {
      utterance: index,
      text: utterance.text,
      provider: transcriber.provider,
      model: transcriber.model,
      ...(utterance.language ? { language: utterance.language } : {}),
      segments: utterance.segments.map((s) => ({
        text: s.text,
        start: s.start + offset / 1000,
        end: s.end + offset / 1000,
        ...(s.confidence !== undefined ? { confidence: s.confidence } : {}),
      })),
      startMs: utterance.startMs + offset,
      endMs: utterance.endMs + offset,
      finalLatencyMs: report.finalLatencyMs,
      costUsd: transcriptionCost(
        transcriber.provider,
        transcriber.model,
        'realtime',
        utterance.endMs - utterance.startMs,
      ),
      ...(options.keepAudio ? { audio: await options.keepAudio(utterance) } : {}),
    };
    report.utterance = index;
    const controller = new AbortController();
    const stop = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', stop, { once: true });
    const heard = options.heardAt(utterance.endMs);
    const common = {
      store: options.store,
      agent: options.agent,
      signal: controller.signal,
      onEvent: (event: RunEvent) => {
        if (event.type === 'model.request' && report.toRequestMs === undefined)
          report.toRequestMs = now() - finalAt;
        options.onEvent?.(event);
      },
      onLive: (update: LiveUpdate) => {
        if (update.type === 'text-delta') {
          if (report.firstTokenMs === undefined) report.firstTokenMs = now() - heard;
          options.speaker?.say(update.text);
        }
        options.onLive?.(update);
      },
    };
    const done = (async () => {
      try {
        const result = runId
          ? await continueWithTurn({ ...common, runId, text: utterance.text, transcript })
          : await runAgent({
              ...common,
              task: utterance.text,
              transcript,
              ...(options.specPath ? { specPath: options.specPath } : {}),
              ...(options.scripted ? { scripted: options.scripted } : {}),
            });
        runId = result.runId;
        last = result;
        if (result.state.status === 'completed' && !report.interrupted)
          report.answer = result.state.output;
        return result;
      } finally {
        options.signal?.removeEventListener('abort', stop);
        options.onUtterance?.(report);
      }
    })();
    answering = { controller, done, report };
    // The first run's id is known once run.started is durable; later turns need it.
    await done.catch((error: unknown) => {
      failure ??= error;
    });
  };

  let turn: Promise<void> = Promise.resolve();
  try {
    for await (const event of transcriber.stream(options.audio, {
      ...(options.language ? { language: options.language } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })) {
      if (options.signal?.aborted) break;
      switch (event.type) {
        case 'speech-started':
          bargeIn();
          break;
        case 'partial':
          options.onPartial?.(event.text);
          break;
        case 'reconnected':
          options.onReconnected?.(event.attempt, event.reason);
          break;
        case 'final': {
          const finalAt = now();
          const report: UtteranceReport = {
            utterance: -1,
            text: event.utterance.text,
            finalLatencyMs: Math.max(0, finalAt - options.heardAt(event.utterance.endMs)),
            interrupted: false,
          };
          reports.push(report);
          // An answer still streaming is cut off: the person has spoken again.
          bargeIn();
          const previous = turn;
          turn = previous.then(() => answer(event.utterance, finalAt, report));
          break;
        }
      }
    }
  } finally {
    // A transcriber that fails leaves the answer in progress to finish and be logged.
    await turn.catch(() => undefined);
  }
  await turn;
  await answering?.done.catch(() => undefined);
  if (failure !== undefined) throw failure;
  await options.speaker?.flush();
  return { runId, utterances: reports, ...(last ? { last } : {}) };
}
